"""Shared test helpers: paths, real data read in place, skip-or-fail when something is missing.

A missing prerequisite (../shared/data, deno, the server, QGIS) skips a test with the reason;
with CI set in the environment (.ci/run exports CI=1) it fails instead, so CI cannot pass by
skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

QGIS_DIR = Path(__file__).resolve().parents[1]
ROOT = QGIS_DIR.parent
DATA = (ROOT / ".." / "shared" / "data").resolve()
DOTA_IMAGE = DATA / "dota-samples" / "images" / "P1888.png"
DOTA_LABELS = DATA / "dota-samples" / "labelTxt" / "P1888.txt"

sys.path.insert(0, str(QGIS_DIR))

# QGIS and GDAL write <raster>.aux.xml (statistics) beside the rasters they read: never into
# ../shared/data, which the tests read in place (qgis_process inherits this environment).
os.environ["GDAL_PAM_ENABLED"] = "NO"


def missing(reason: str) -> None:
    """Skip the test, or fail it under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: missing prerequisites fail)")
    pytest.skip(reason)


def require_files(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            missing(f"{path} is missing: the tests read real data in place")


def dota_boxes(path: Path = DOTA_LABELS) -> list[dict]:
    """The boxes of a DOTA labelTxt file: {corners, class, difficult}, header lines skipped."""
    boxes = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 9:
            continue  # imagesource:, gsd: headers
        try:
            xy = [float(v) for v in parts[:8]]
        except ValueError:
            continue
        corners = [[xy[i], xy[i + 1]] for i in range(0, 8, 2)]
        boxes.append({"corners": corners, "class": parts[8]})
    return boxes
