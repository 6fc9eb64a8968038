import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sopseg.data import augment_points, augment_tensor, gt_mask, prompt_for, sample_crop
from sopseg.evaluate import boundary_band, iou_biou, paste_back
from sopseg.geometry import (
    Crop,
    OrientedBox,
    crop_grid,
    obox_from_polygons,
    opm_tokens,
    pixel_to_model,
    ram_crop,
    ram_side,
)

K = 960.0 / 992.0


@pytest.mark.parametrize(
    "d, s",
    [
        (8.0, 16.0),
        (32.0, 64.0),
        (100.0, K * 100 + (2 - K) * 32),
        (1024.0, 1024.0),
        (2000.0, 2000.0),  # formula gives < d past Smax: S = max(S, d)
        (2.0, 8.0),  # S >= 8
    ],
)
def test_ram_side(d: float, s: float) -> None:
    assert ram_side(d) == pytest.approx(s, rel=1e-9)


def test_ram_side_continuous_at_m() -> None:
    assert ram_side(32.0 - 1e-9) == pytest.approx(ram_side(32.0), abs=1e-6)
    assert ram_side(100.0) == pytest.approx(129.80645161, rel=1e-8)


def test_ram_crop_centred_and_anchored() -> None:
    c = ram_crop((10.0, 20.0, 30.0, 12.0))
    assert c.size == pytest.approx(60.0)
    assert c.x0 + c.size / 2 == pytest.approx(25.0) and c.y0 + c.size / 2 == pytest.approx(26.0)
    c = ram_crop((10.0, 20.0, 30.0, 12.0), ax=0.3, ay=0.7)
    assert c.x0 == pytest.approx(10.0 - 0.3 * 30.0) and c.y0 == pytest.approx(20.0 - 0.7 * 48.0)


def test_obox_from_polygon_pixel_frame() -> None:
    # vertex indices of an axis-aligned 4 x 7 pixel block: cols 2..5, rows 3..9
    poly = np.array([[2, 3], [5, 3], [5, 9], [2, 9]], np.int32)
    b = obox_from_polygons([poly])
    assert (b.cx, b.cy) == pytest.approx((4.0, 6.5))
    assert sorted([b.w, b.h]) == pytest.approx([4.0, 7.0])
    assert gt_mask([poly], 12, 12).sum() == 28  # inclusive fill


@pytest.mark.parametrize("angle", [0.0, 17.0, 45.0, 90.0, 123.0, -30.0])
@pytest.mark.parametrize("w, h", [(40.0, 10.0), (10.0, 40.0), (12.0, 12.0)])
def test_opm_points_on_long_axis_inside_box(angle: float, w: float, h: float) -> None:
    box = OrientedBox(50.0, 60.0, w, h, angle)
    corners = box.corners()
    coords, labels = opm_tokens(corners)
    assert labels.tolist() == [1.0, 1.0, 1.0, 2.0, 3.0]
    c = np.array([box.cx, box.cy])
    assert coords[1] == pytest.approx(c)
    t = math.radians(angle)
    # a square: the width sides (corner0-corner1) count as the short sides (CONTRACT tie rule)
    u, v = np.array([math.cos(t), math.sin(t)]), np.array([-math.sin(t), math.cos(t)])
    long_dir = u if w > h else v
    half_long = max(w, h) / 2.0
    for p in (coords[0], coords[2]):
        d = p - c
        # on the long axis at a quarter of the length from the centre
        assert abs(float(np.cross(long_dir, d))) < 1e-9
        assert float(np.linalg.norm(d)) == pytest.approx(half_long / 2.0)
    assert (coords[0][0], coords[0][1]) <= (coords[2][0], coords[2][1])  # P1: smaller x
    assert coords[3] == pytest.approx(corners.min(axis=0))
    assert coords[4] == pytest.approx(corners.max(axis=0))


def test_pixel_to_model_frame() -> None:
    crop = Crop(10.0, 20.0, 64.0)
    pts = np.array([[10.0, 20.0], [74.0, 84.0], [42.0, 52.0]])
    assert pixel_to_model(pts, crop) == pytest.approx(
        np.array([[0.0, 0.0], [256.0, 256.0], [128.0, 128.0]])
    )


def contract_sample(img: np.ndarray, crop: Crop, n: int = 256) -> np.ndarray:
    """The CONTRACT's sampling formula, written out in float64 loops."""
    c, h, w = img.shape
    out = np.zeros((c, n, n))
    for v in range(n):
        for u in range(n):
            px = crop.x0 + (u + 0.5) * crop.size / n
            py = crop.y0 + (v + 0.5) * crop.size / n
            fx, fy = px - 0.5, py - 0.5
            i0, j0 = math.floor(fx), math.floor(fy)
            wx, wy = fx - i0, fy - j0
            acc = np.zeros(c)
            for dj, ky in ((0, 1 - wy), (1, wy)):
                for di, kx in ((0, 1 - wx), (1, wx)):
                    i, j = i0 + di, j0 + dj
                    if 0 <= i < w and 0 <= j < h:
                        acc += kx * ky * img[:, j, i]
            out[:, v, u] = acc
    return out


def test_crop_sampling_matches_contract_formula() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(size=(3, 23, 31))
    crop = Crop(-4.3, 7.7, 29.6)  # partly outside the image
    got = sample_crop(torch.from_numpy(img).float()[None], crop)[0].numpy()
    want = contract_sample(img, crop)
    assert np.abs(got - want).max() < 1e-4


def test_crop_sampling_of_a_linear_ramp() -> None:
    # value = column centre x = i + 0.5: bilinear sampling returns the pixel-frame x itself
    w, h = 64, 48
    img = np.broadcast_to(np.arange(w) + 0.5, (h, w)).astype(np.float32)[None, None]
    crop = Crop(10.25, 5.0, 32.0)
    got = sample_crop(torch.from_numpy(img.copy()), crop)[0, 0].numpy()
    px = 10.25 + (np.arange(256) + 0.5) * 32.0 / 256
    assert np.abs(got - px[None, :]).max() < 1e-4
    assert crop_grid(crop, w, h).shape == (256, 256, 2)


@pytest.mark.parametrize(
    "fx, fy, rot", [(False, False, 1), (True, False, 0), (False, True, 3), (True, True, 2)]
)
def test_augment_points_follow_tensor(fx: bool, fy: bool, rot: int) -> None:
    t = torch.zeros(1, 256, 256)
    u, v = 37, 201
    t[0, v, u] = 1.0
    p = augment_points(np.array([[u + 0.5, v + 0.5]]), fx, fy, rot)[0]
    a = augment_tensor(t, fx, fy, rot)
    vv, uu = np.unravel_index(int(a[0].argmax()), (256, 256))
    assert (uu + 0.5, vv + 0.5) == pytest.approx(tuple(p))


def test_paste_back_round_trip() -> None:
    poly = np.array([[100, 120], [160, 110], [170, 150], [105, 160]], np.int32)
    gt = gt_mask([poly], 256, 256)
    crop, _, _ = prompt_for(obox_from_polygons([poly]))
    soft = sample_crop(torch.from_numpy(gt).float()[None, None], crop)[0]
    pred = paste_back(soft * 2.0 - 1.0, crop, 256, 256)
    iou, biou = iou_biou(pred, gt, 2)
    assert iou > 0.97 and biou > 0.85


def test_boundary_iou_basics() -> None:
    m = np.zeros((20, 20), np.uint8)
    m[5:15, 5:15] = 1
    band = boundary_band(m, 1)
    assert band.sum() == 100 - 64
    assert iou_biou(m, m, 2) == (1.0, 1.0)
    full = np.ones((10, 10), np.uint8)
    assert boundary_band(full, 1).sum() == 36  # zero padding outside the image


def test_jitter_obox_amplitudes() -> None:
    from sopseg.data import jitter_obox
    from sopseg.geometry import OrientedBox

    box = OrientedBox(100.0, 50.0, 40.0, 10.0, 30.0)
    rng = np.random.default_rng(0)
    still = jitter_obox(box, rng, shift=0.0, scale=0.0, angle=0.0)
    assert (still.cx, still.cy, still.w, still.h, still.angle) == (100.0, 50.0, 40.0, 10.0, 30.0)
    shift, scale, angle = 0.06, 0.12, 3.5
    boxes = [jitter_obox(box, rng, shift, scale, angle) for _ in range(2000)]
    t = math.radians(box.angle)
    du = np.array([(b.cx - box.cx) * math.cos(t) + (b.cy - box.cy) * math.sin(t) for b in boxes])
    dv = np.array([-(b.cx - box.cx) * math.sin(t) + (b.cy - box.cy) * math.cos(t) for b in boxes])
    sw = np.array([b.w / box.w for b in boxes])
    da = np.array([b.angle - box.angle for b in boxes])
    # Shifts along the box axes, in units of that side; normal draws clipped at 3 sigma.
    assert np.abs(du / box.w).max() <= 3 * shift + 1e-9
    assert np.abs(dv / box.h).max() <= 3 * shift + 1e-9
    assert abs(np.std(du / box.w) - shift) < 0.1 * shift
    assert sw.min() >= 1 - scale and sw.max() <= 1 + scale and sw.max() - sw.min() > 1.8 * scale
    assert np.abs(da).max() <= 3 * angle + 1e-9 and abs(np.std(da) - angle) < 0.1 * angle


def test_fixed_crop_is_the_runtime_no_ram_crop() -> None:
    from sopseg.geometry import fixed_crop

    c = fixed_crop((100.0, 50.0, 20.0, 10.0), 128.0, 0.5, 0.5)
    assert (c.x0, c.y0, c.size) == (100.0 - 54.0, 50.0 - 59.0, 128.0)
    big = fixed_crop((0.0, 0.0, 300.0, 40.0), 128.0, 0.3, 0.7)
    assert (big.x0, big.y0, big.size) == (0.0, -0.7 * 260.0, 300.0)


def test_mixture_tail_widens_the_relative_errors() -> None:
    from sopseg.data import mixture_obox
    from sopseg.geometry import OrientedBox

    box = OrientedBox(200.0, 200.0, 100.0, 20.0, 0.0)

    def spread(tail: float) -> tuple[float, float, float]:
        rng = np.random.default_rng(1)
        bs = [mixture_obox(box, rng, tail) for _ in range(4000)]
        dv = np.array([b.cy - box.cy for b in bs])  # across the long axis (angle 0)
        sw = np.log(np.array([b.w for b in bs]) / box.w)
        da = np.array([b.angle for b in bs])
        return float(np.std(dv)), float(np.std(sw)), float(np.std(da))

    base, wide = spread(1.0), spread(1.4)
    # Same seed, same draws of the branch choices: every relative scale grows with the tail.
    for b, w in zip(base, wide):
        assert 1.2 * b < w < 1.6 * b
    # About 20 % of draws stay (nearly) clean whatever the tail: no relative error drawn,
    # no side moved, or only by the absolute sub-pixel branch.
    rng = np.random.default_rng(2)
    clean = sum(
        abs(b.cx - box.cx) + abs(b.cy - box.cy) + abs(b.w - box.w) + abs(b.angle) < 1e-12
        for b in (mixture_obox(box, rng, 1.4) for _ in range(4000))
    )
    assert 0.15 < clean / 4000 < 0.25


def test_mixture_rel_prob_sets_the_share_of_relative_errors() -> None:
    from sopseg.data import mixture_obox
    from sopseg.geometry import OrientedBox

    box = OrientedBox(200.0, 200.0, 100.0, 20.0, 0.0)

    def share_rotated(rel_prob: float) -> float:
        rng = np.random.default_rng(3)
        # Only the relative branch turns the box: the absolute branch moves sides.
        n = sum(
            abs(mixture_obox(box, rng, 1.0, rel_prob).angle) > 1e-12 for _ in range(4000)
        )
        return n / 4000

    assert 0.55 < share_rotated(0.6) < 0.65
    assert 0.72 < share_rotated(0.75) < 0.78
    assert share_rotated(0.0) == 0.0


def test_ram_side_context_gives_large_objects_room() -> None:
    # the law gives a 200-px object about 27 px of context; context 1.3 gives it 60
    assert ram_side(200.0) == pytest.approx(200.0 * 960 / 992 + (2 - 960 / 992) * 32, rel=1e-9)
    assert ram_side(200.0, 1.3) == pytest.approx(260.0)
    # small objects already have more than 1.3 x their size: unchanged
    assert ram_side(20.0, 1.3) == ram_side(20.0) == 40.0
    assert ram_crop((0.0, 0.0, 200.0, 100.0), context=1.3).size == pytest.approx(260.0)
