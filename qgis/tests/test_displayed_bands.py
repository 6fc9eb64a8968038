"""The bands a raster layer shows (its renderer), which the algorithms read when BANDS is
empty: QGIS itself, headless, on GeoTIFFs made by GDAL from a DOTA sample."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from conftest import DOTA_IMAGE, missing, require_files


@pytest.fixture(scope="module")
def qgis_app() -> Iterator[object]:
    try:
        from qgis.core import QgsApplication
    except ImportError:
        missing("python3-qgis is not installed")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    yield app


def geotiff(folder: Path, name: str, bands: list[int], *extra: str) -> Path:
    if not shutil.which("gdal_translate"):
        missing("gdal_translate is not installed (gdal-bin)")
    require_files(DOTA_IMAGE)
    out = folder / name
    args = [a for b in bands for a in ("-b", str(b))]
    subprocess.run(
        ["gdal_translate", "-q", "-of", "GTiff", *args, *extra, str(DOTA_IMAGE), str(out)],
        check=True,
    )
    return out


def test_the_bands_a_layer_shows(
    qgis_app: object, tmp_path: Path
) -> None:
    from qgis.core import (
        QgsMultiBandColorRenderer,
        QgsPalettedRasterRenderer,
        QgsRasterLayer,
        QgsSingleBandGrayRenderer,
    )
    from sopseg_qgis.segment_algorithm import displayed_bands

    layer = QgsRasterLayer(str(geotiff(tmp_path, "four.tif", [3, 2, 1, 1])), "four")
    assert layer.isValid() and layer.bandCount() == 4
    assert displayed_bands(layer) == [1, 2, 3]  # as QGIS shows them
    provider = layer.dataProvider()
    layer.setRenderer(QgsMultiBandColorRenderer(provider, 3, 2, 1))
    assert displayed_bands(layer) == [3, 2, 1]
    layer.setRenderer(QgsMultiBandColorRenderer(provider, 4, -1, 2))  # an empty channel
    assert displayed_bands(layer) is None
    layer.setRenderer(QgsSingleBandGrayRenderer(provider, 4))
    assert displayed_bands(layer) == [4]
    layer.setRenderer(QgsPalettedRasterRenderer(provider, 1, []))  # not a colour view
    assert displayed_bands(layer) is None

    grey = QgsRasterLayer(str(geotiff(tmp_path, "grey.tif", [2])), "grey")
    assert grey.bandCount() == 1
    assert displayed_bands(grey) == [1]

    # a B, G, R, NIR export: QGIS shows bands 1, 2, 3 whatever the tags; the server's default
    # would be the tagged 3, 2, 1, so the bands shown are said even when they are 1, 2, 3
    tagged = geotiff(tmp_path, "bgrn.tif", [3, 2, 1, 1], "-colorinterp", "blue,green,red,undefined")
    bgrn = QgsRasterLayer(str(tagged), "bgrn")
    assert displayed_bands(bgrn) == [1, 2, 3]
    bgrn.setRenderer(QgsMultiBandColorRenderer(bgrn.dataProvider(), 3, 2, 1))
    assert displayed_bands(bgrn) == [3, 2, 1]
