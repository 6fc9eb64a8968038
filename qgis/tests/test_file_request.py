"""What the algorithms send: the `detections` object of `sopseg:segment_detection_file` for a
detector's output file, and the `bands` option from the BANDS text."""

from __future__ import annotations

import pytest
from sopseg_qgis.segment_algorithm import parse_bands, shapefile_destination
from sopseg_qgis.segment_file_algorithm import detections_request


def test_a_task1_file_stands_for_its_folder_unless_told_otherwise() -> None:
    path = "/results/Task1_small-vehicle.txt"
    assert detections_request(path, "auto", "", "", "", None, True) == {
        "path": "/results",
        "format": "task1",
    }
    assert detections_request(path, "auto", "", "", "", None, False) == {
        "path": path,
        "format": "task1",
    }
    # named otherwise, Task1 only when the format says so
    assert detections_request("/r/ships.txt", "task1", "", "", "", None, True) == {
        "path": "/r/ships.txt",
        "format": "task1",
    }
    assert detections_request("/r/P0706.txt", "auto", "", "", "", None, True) == {
        "path": "/r/P0706.txt"
    }


def test_every_given_field_is_sent_and_nothing_else() -> None:
    request = detections_request(
        "/r/results.bbox.json", "mmrotate-json", " plane, ship ,,", " P0706 ", "le135", 0.0, True
    )
    assert request == {
        "path": "/r/results.bbox.json",
        "format": "mmrotate-json",
        "classes": ["plane", "ship"],
        "image_id": "P0706",
        "angle_convention": "le135",
        "min_score": 0.0,
    }


def test_bands_are_one_or_three_of_the_rasters_band_numbers() -> None:
    assert parse_bands("5,3,2", 8) == [5, 3, 2]
    assert parse_bands(" 4 ", 4) == [4]
    assert parse_bands(" , ", 4) is None
    for text, why in [
        ("5,3", "give 1 or 3 band numbers"),
        ("5,3,x", "is not band numbers"),
        ("9,3,2", "band 9 is not one of the raster's bands 1-8"),
        ("0", "band 0 is not one of"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_bands(text, 8)


def test_a_shapefile_destination_is_recognised_for_its_field_name_warning() -> None:
    assert shapefile_destination("/tmp/masks.shp")
    assert shapefile_destination("/tmp/MASKS.SHP|layername=masks")
    assert not shapefile_destination("/tmp/masks.gpkg")
    assert not shapefile_destination("memory:Instance masks")
    assert not shapefile_destination("/tmp/shp/masks.geojson")
