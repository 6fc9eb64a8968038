"""The oriented box as a dense prompt: its coverage of every pixel, rebuilt from the 5 tokens.

The decoder graph receives only the CONTRACT's five tokens (P1, C, P2, and the enclosing
horizontal box). They determine the oriented box exactly:

- long axis u = (P2 - P1) / |P2 - P1|, long side L = 2 |P2 - P1| (P1, P2 sit halfway
  between the centre and the midpoints of the short sides), centre C;
- the enclosing box has w = L |ux| + W |uy| and h = L |uy| + W |ux|, so the short side is
  W = |uy| w + |ux| h - 2 L |ux| |uy| (exact, and stable at every angle).

A box-only prompt (rows 0-2 absent) gives the horizontal box itself; a point-only prompt
(rows 3-4 absent) gives no box: coverage 0 and `present` 0.

Coverage of a pixel is `clamp(0.5 - d, 0, 1)` with `d` the signed distance (in pixels of the
grid being rasterised) of its centre to the box outline, the Chebyshev-style distance
`max(|t| - L/2, |n| - W/2)` in the box's own axes: the exact area fraction for edges along the
pixel grid. Everything is elementwise, so it exports to ONNX for any batch size.
"""

from __future__ import annotations

import torch


def box_from_tokens(
    coords: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """coords [B,5,2], labels [B,5] (CONTRACT order) -> centre [B,2], axis u [B,2],
    half long side [B], half short side [B], present [B] (1 if there is a box)."""
    has_pts = (labels[:, 0] >= 0).to(coords.dtype)  # [B]
    has_box = (labels[:, 3] >= 0).to(coords.dtype)
    p1, c, p2 = coords[:, 0], coords[:, 1], coords[:, 2]
    tl, br = coords[:, 3], coords[:, 4]
    w = (br[:, 0] - tl[:, 0]).clamp(min=0.0)
    h = (br[:, 1] - tl[:, 1]).clamp(min=0.0)
    a = p2 - p1
    n = torch.sqrt((a * a).sum(-1) + 1e-12)
    ux, uy = (a[:, 0] / n).abs(), (a[:, 1] / n).abs()
    long_obb = 2.0 * n
    short_obb = (uy * w + ux * h - 2.0 * long_obb * ux * uy).clamp(min=0.0)
    # Without the points, the horizontal box: axis x, sides w and h.
    hp = has_pts[:, None]
    centre = hp * c + (1.0 - hp) * 0.5 * (tl + br)
    x_axis = torch.tensor([1.0, 0.0], dtype=coords.dtype, device=coords.device)
    axis = hp * (a / n[:, None]) + (1.0 - hp) * x_axis
    half_long = 0.5 * (has_pts * long_obb + (1.0 - has_pts) * w)
    half_short = 0.5 * (has_pts * short_obb + (1.0 - has_pts) * h)
    return centre, axis, half_long, half_short, has_box


def box_coverage(
    coords: torch.Tensor, labels: torch.Tensor, size: int, input_size: int = 256
) -> torch.Tensor:
    """Coverage [B,1,size,size] in [0, 1] of the prompt's oriented box on a size x size grid
    over the input_size x input_size model frame (pixel centres at (i + 0.5) * step)."""
    centre, axis, hl, hs, present = box_from_tokens(coords, labels)
    step = float(input_size) / float(size)
    g = (torch.arange(size, dtype=coords.dtype, device=coords.device) + 0.5) * step  # [size]
    dx = g[None, None, :] - centre[:, 0, None, None]  # [B,1,S]
    dy = g[None, :, None] - centre[:, 1, None, None]  # [B,S,1]
    ax, ay = axis[:, 0, None, None], axis[:, 1, None, None]
    t = dx * ax + dy * ay  # along the long axis, [B,S,S]
    nn_ = dy * ax - dx * ay  # across
    d = torch.maximum(t.abs() - hl[:, None, None], nn_.abs() - hs[:, None, None]) / step
    cov = (0.5 - d).clamp(0.0, 1.0) * present[:, None, None]
    return cov.unsqueeze(1)
