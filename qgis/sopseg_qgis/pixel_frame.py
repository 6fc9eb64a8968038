"""Map <-> pixel frame through a GDAL geotransform, and oriented-box corners from a ring.

The pixel frame is sopseg's (docs/CONTRACT.md) and GDAL's: pixel (col i, row j) covers
[i, i+1) x [j, j+1), its centre is (i + 0.5, j + 0.5), x right, y down. A GDAL geotransform
`(x0, a, b, y0, d, e)` maps that frame to the map: X = x0 + a*i + b*j, Y = y0 + d*i + e*j; it
covers rotated rasters (b, d != 0) as well as north-up ones. Pure Python: no QGIS, no GDAL.
"""

from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence

Point = tuple[float, float]
GeoTransform = tuple[float, float, float, float, float, float]


def north_up_geotransform(
    xmin: float, ymax: float, xmax: float, ymin: float, width: int, height: int
) -> GeoTransform:
    """The geotransform of a north-up raster of `width` x `height` pixels covering the extent."""
    if width <= 0 or height <= 0:
        raise ValueError(f"Cannot make a geotransform: raster size {width}x{height}")
    return (xmin, (xmax - xmin) / width, 0.0, ymax, 0.0, -(ymax - ymin) / height)


def invert_geotransform(gt: Sequence[float]) -> GeoTransform:
    """The geotransform from map to pixel frame (like GDALInvGeoTransform).

    Raises ValueError for a singular transform (no georeference worth the name).
    """
    x0, a, b, y0, d, e = (float(v) for v in gt)
    det = a * e - b * d
    if not math.isfinite(det) or abs(det) < 1e-300:
        raise ValueError(f"Cannot invert geotransform {tuple(gt)}: it is singular")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (-(ia * x0 + ib * y0), ia, ib, -(id_ * x0 + ie * y0), id_, ie)


def apply_geotransform(gt: Sequence[float], x: float, y: float) -> Point:
    """`(x, y)` through the geotransform: pixel -> map, or map -> pixel for an inverted one."""
    return (gt[0] + gt[1] * x + gt[2] * y, gt[3] + gt[4] * x + gt[5] * y)


def map_to_pixel(gt: Sequence[float], points: Iterable[Point]) -> list[Point]:
    """Map-frame points (the raster's CRS) to the pixel frame of the raster with geotransform `gt`."""
    inverse = invert_geotransform(gt)
    return [apply_geotransform(inverse, x, y) for x, y in points]


def pixel_to_map(gt: Sequence[float], points: Iterable[Point]) -> list[Point]:
    """Pixel-frame points to the raster's CRS."""
    return [apply_geotransform(gt, x, y) for x, y in points]


def box_corners(ring: Sequence[Point], tolerance: float = 0.0) -> Optional[list[Point]]:
    """The 4 corners of a ring that is an oriented box, in the ring's order, else None.

    The closing point and repeated points (within `tolerance`) are dropped, as are points on a
    straight line between their neighbours (some tools write a box with extra vertices on its
    edges). The first corner is kept first: for some classes it carries meaning (a plane's nose).
    """
    points: list[Point] = []
    for p in ring:
        if not points or _distance(points[-1], p) > tolerance:
            points.append((float(p[0]), float(p[1])))
    while len(points) > 1 and _distance(points[0], points[-1]) <= tolerance:
        points.pop()
    corners = [
        p
        for i, p in enumerate(points)
        if not _collinear(points[i - 1], p, points[(i + 1) % len(points)])
    ]
    return corners if len(corners) == 4 else None


def _distance(p: Point, q: Point) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _collinear(p: Point, q: Point, r: Point) -> bool:
    cross = (q[0] - p[0]) * (r[1] - q[1]) - (q[1] - p[1]) * (r[0] - q[0])
    scale = _distance(p, q) * _distance(q, r)
    return scale == 0 or abs(cross) <= 1e-9 * scale
