"""Pure geometry of docs/CONTRACT.md: oriented boxes, OPM tokens, RAM crops, frame maps.

Frames: `pixel` (continuous image coordinates, pixel (i, j) covers [i, i+1) x [j, j+1)),
`crop` ({x0, y0, size} square in the pixel frame), `model` (the 256 x 256 network input,
`model = (pixel - (x0, y0)) * 256 / size`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

INPUT_SIZE = 256
RAM_M = 32.0
RAM_K0 = 2.0
RAM_SMAX = 1024.0
RAM_SMIN = 8.0


@dataclass(frozen=True)
class OrientedBox:
    """Pixel-frame oriented box: centre, width along `angle`, height across it (degrees)."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float

    def corners(self) -> np.ndarray:
        """Corners [4, 2] in order C-u-v, C+u-v, C+u+v, C-u+v (u along the width axis)."""
        t = math.radians(self.angle)
        u = np.array([math.cos(t), math.sin(t)]) * (self.w / 2.0)
        v = np.array([-math.sin(t), math.cos(t)]) * (self.h / 2.0)
        c = np.array([self.cx, self.cy])
        return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])


@dataclass(frozen=True)
class Crop:
    """A square crop in the pixel frame."""

    x0: float
    y0: float
    size: float


def obox_from_polygons(polygons: list[np.ndarray]) -> OrientedBox:
    """GT oriented box (CONTRACT): minAreaRect of all integer vertices, then to pixel frame.

    The centre moves by +0.5 and width/height grow by +1 (index i covers [i, i+1)).
    """
    pts = np.concatenate([np.asarray(p, dtype=np.float32).reshape(-1, 2) for p in polygons])
    (cx, cy), (w, h), angle = cv2.minAreaRect(pts)
    return OrientedBox(
        float(cx) + 0.5, float(cy) + 0.5, float(w) + 1.0, float(h) + 1.0, float(angle)
    )


def hbox_of_points(pts: np.ndarray) -> tuple[float, float, float, float]:
    """Enclosing horizontal box (x, y, w, h) of points [N, 2]."""
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def ram_side(d: float, context: float = 1.0) -> float:
    """RAM crop side S for object size d (METHOD section 2), with S >= context * d and S >= 8
    (`context` > 1: more context for large objects than the law gives; the manifest's
    `ram.context`, docs/CONTRACT.md)."""
    if d < RAM_M:
        s = RAM_K0 * d
    else:
        k = (RAM_SMAX - RAM_K0 * RAM_M) / (RAM_SMAX - RAM_M)
        s = k * d + (RAM_K0 - k) * RAM_M
    return max(s, context * d, RAM_SMIN)


def square_crop(hbox: tuple[float, float, float, float], s: float, ax: float, ay: float) -> Crop:
    """Square crop of side s for a horizontal box (x, y, w, h): xs = x - ax * (s - w), same
    for y (ax = ay = 0.5 centres the box)."""
    x, y, w, h = hbox
    return Crop(x - ax * (s - w), y - ay * (s - h), s)


def ram_crop(
    hbox: tuple[float, float, float, float], ax: float = 0.5, ay: float = 0.5, context: float = 1.0
) -> Crop:
    """RAM crop for a horizontal box (x, y, w, h): side `ram_side(max(w, h), context)`."""
    return square_crop(hbox, ram_side(max(hbox[2], hbox[3]), context), ax, ay)


def fixed_crop(
    hbox: tuple[float, float, float, float], side: float, ax: float = 0.5, ay: float = 0.5
) -> Crop:
    """The no-RAM ablation's crop: side max(side, w, h); with ax = ay = 0.5 it is the runtime's
    `--no-ram` crop."""
    return square_crop(hbox, max(side, hbox[2], hbox[3]), ax, ay)


def pixel_to_model(pts: np.ndarray, crop: Crop, input_size: int = INPUT_SIZE) -> np.ndarray:
    """Map pixel-frame points [N, 2] to the model frame."""
    return (np.asarray(pts, dtype=np.float64) - [crop.x0, crop.y0]) * (input_size / crop.size)


def opm_tokens(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 5 prompt tokens of CONTRACT from oriented-box corners [4, 2] (any frame).

    Returns coords [5, 2] and labels [5]: P1, C, P2 (label 1), then the enclosing
    horizontal box's top-left (label 2) and bottom-right (label 3). C1/C2 are the
    midpoints of the short sides; for a square (sides equal within 1e-6 relative) the
    short sides are taken to be corner0-corner1 and corner2-corner3 (the width sides).
    P1 is the point with the smaller x (ties: smaller y).
    """
    p = np.asarray(corners, dtype=np.float64)
    c = p.mean(axis=0)
    len0 = float(np.linalg.norm(p[1] - p[0]))
    len1 = float(np.linalg.norm(p[2] - p[1]))
    tie = abs(len0 - len1) <= 1e-6 * max(len0, len1, 1e-12)
    if tie or len0 < len1:
        c1, c2 = (p[0] + p[1]) / 2.0, (p[2] + p[3]) / 2.0
    else:
        c1, c2 = (p[1] + p[2]) / 2.0, (p[3] + p[0]) / 2.0
    pa, pb = (c + c1) / 2.0, (c + c2) / 2.0
    if (pb[0], pb[1]) < (pa[0], pa[1]):
        pa, pb = pb, pa
    lo, hi = p.min(axis=0), p.max(axis=0)
    coords = np.stack([pa, c, pb, lo, hi])
    labels = np.array([1.0, 1.0, 1.0, 2.0, 3.0])
    return coords, labels


def crop_grid(crop: Crop, width: int, height: int, input_size: int = INPUT_SIZE) -> np.ndarray:
    """grid_sample grid [S_in, S_in, 2] (align_corners=False) for a crop of a WxH image.

    Model pixel (u, v) samples the pixel-frame point (x0, y0) + (u + 0.5, v + 0.5) * size / S_in.
    """
    t = (np.arange(input_size, dtype=np.float64) + 0.5) * (crop.size / input_size)
    gx = (crop.x0 + t) * (2.0 / width) - 1.0
    gy = (crop.y0 + t) * (2.0 / height) - 1.0
    grid = np.stack(np.meshgrid(gx, gy, indexing="xy"), axis=-1)
    return grid.astype(np.float32)


def paste_window(crop: Crop, width: int, height: int) -> tuple[int, int, int, int]:
    """Image pixels whose centre lies inside the crop square: [i0, i1) x [j0, j1), clipped."""
    i0 = max(0, math.ceil(crop.x0 - 0.5))
    i1 = min(width, math.ceil(crop.x0 + crop.size - 0.5))
    j0 = max(0, math.ceil(crop.y0 - 0.5))
    j1 = min(height, math.ceil(crop.y0 + crop.size - 0.5))
    return i0, i1, j0, j1


def paste_grid(
    crop: Crop, window: tuple[int, int, int, int], input_size: int = INPUT_SIZE
) -> np.ndarray:
    """grid_sample grid [h, w, 2] that samples model-frame logits at the window's pixel centres."""
    i0, i1, j0, j1 = window
    u = (np.arange(i0, i1, dtype=np.float64) + 0.5 - crop.x0) * (input_size / crop.size)
    v = (np.arange(j0, j1, dtype=np.float64) + 0.5 - crop.y0) * (input_size / crop.size)
    grid = np.stack(np.meshgrid(u * (2.0 / input_size) - 1.0, v * (2.0 / input_size) - 1.0), -1)
    return grid.astype(np.float32)
