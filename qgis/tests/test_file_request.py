"""The `detections` object `sopseg:segment_detection_file` sends for a detector's output file."""

from __future__ import annotations

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
