"""pixel_frame: geotransform inversion and box corners, pure Python."""

from __future__ import annotations

import math
import subprocess

import pytest
from conftest import missing
from sopseg_qgis.pixel_frame import (
    apply_geotransform,
    box_corners,
    invert_geotransform,
    map_to_pixel,
    north_up_geotransform,
    pixel_to_map,
)

ROTATED = (500000.0, 0.3, 0.1, 4500000.0, 0.05, -0.3)


def test_invert_geotransform_round_trips_a_rotated_raster() -> None:
    points = [(0.0, 0.0), (712.0, 557.0), (10.5, 3.25), (-4.0, 900.0)]
    back = map_to_pixel(ROTATED, pixel_to_map(ROTATED, points))
    for (x, y), (u, v) in zip(points, back):
        assert math.isclose(x, u, abs_tol=1e-6) and math.isclose(y, v, abs_tol=1e-6)


def test_north_up_geotransform_puts_pixel_corners_on_the_extent() -> None:
    gt = north_up_geotransform(100.0, 200.0, 171.2, 144.3, 712, 557)
    assert apply_geotransform(gt, 0, 0) == (100.0, 200.0)
    x, y = apply_geotransform(gt, 712, 557)
    assert math.isclose(x, 171.2) and math.isclose(y, 144.3)
    # The centre of pixel (0, 0) is half a pixel in from the corner.
    cx, cy = apply_geotransform(gt, 0.5, 0.5)
    assert math.isclose(cx, 100.05) and math.isclose(cy, 199.95)


def test_invert_geotransform_refuses_a_singular_transform() -> None:
    with pytest.raises(ValueError, match="singular"):
        invert_geotransform((0, 1, 2, 0, 2, 4))


def test_map_to_pixel_agrees_with_gdaltransform() -> None:
    """GDAL's own inverse (gdaltransform -i on a raster with that geotransform), if GDAL is here."""
    import shutil
    import tempfile

    if not shutil.which("gdal_translate") or not shutil.which("gdaltransform"):
        missing("GDAL (gdal-bin) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        vrt = f"{tmp}/r.vrt"
        gt = ", ".join(repr(v) for v in ROTATED)
        with open(vrt, "w") as f:
            f.write(
                f'<VRTDataset rasterXSize="712" rasterYSize="557"><SRS>EPSG:32633</SRS>'
                f"<GeoTransform>{gt}</GeoTransform>"
                '<VRTRasterBand dataType="Byte" band="1"/></VRTDataset>'
            )
        points = [(500010.0, 4499990.0), (500123.4, 4499876.5)]
        out = subprocess.run(
            ["gdaltransform", "-i", vrt],
            input="".join(f"{x} {y}\n" for x, y in points),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        for (x, y), line, (u, v) in zip(points, out, map_to_pixel(ROTATED, points)):
            gu, gv = (float(s) for s in line.split()[:2])
            assert math.isclose(u, gu, abs_tol=1e-6) and math.isclose(v, gv, abs_tol=1e-6)


def test_box_corners_drops_the_closing_point_and_keeps_the_first_corner() -> None:
    ring = [(2, 0), (4, 2), (2, 4), (0, 2), (2, 0)]
    assert box_corners(ring) == [(2, 0), (4, 2), (2, 4), (0, 2)]


def test_box_corners_drops_points_on_edges_and_repeats() -> None:
    ring = [(0, 0), (2, 0), (4, 0), (4, 0), (4, 3), (0, 3), (0, 0)]
    assert box_corners(ring) == [(0, 0), (4, 0), (4, 3), (0, 3)]


def test_box_corners_rejects_shapes_that_are_not_four_cornered() -> None:
    assert box_corners([(0, 0), (4, 0), (5, 2), (4, 4), (0, 4), (0, 0)]) is None
    assert box_corners([(0, 0), (4, 0), (0, 3), (0, 0)]) is None
