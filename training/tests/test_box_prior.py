"""The dense box prior: the oriented box rebuilt from the 5 CONTRACT tokens, and its coverage."""

import math

import numpy as np
import pytest
import torch

from sopseg.geometry import OrientedBox, opm_tokens
from sopseg.modeling import build_sopseg_lite
from sopseg.modeling.box_prior import box_coverage, box_from_tokens

import train  # training/train.py (conftest puts training/ on the path)


def tokens(box: OrientedBox) -> tuple[torch.Tensor, torch.Tensor]:
    c, l = opm_tokens(box.corners())
    return torch.tensor(c, dtype=torch.float32)[None], torch.tensor(l, dtype=torch.float32)[None]


@pytest.mark.parametrize(
    "w,h,angle", [(40.0, 12.0, 0.0), (40.0, 12.0, 30.0), (12.0, 40.0, -63.0), (30.0, 29.0, 45.0)]
)
def test_box_from_tokens_recovers_the_oriented_box(w: float, h: float, angle: float) -> None:
    box = OrientedBox(120.0, 131.0, w, h, angle)
    centre, axis, hl, hs, present = box_from_tokens(*tokens(box))
    assert float(present) == 1.0
    assert np.allclose(centre[0].numpy(), [120.0, 131.0], atol=1e-3)
    assert math.isclose(2 * float(hl), max(w, h), rel_tol=1e-4)
    assert math.isclose(2 * float(hs), min(w, h), rel_tol=1e-3, abs_tol=1e-3)
    # the axis is the long side's direction (up to sign)
    long_angle = math.radians(angle if w >= h else angle + 90.0)
    dot = abs(float(axis[0, 0]) * math.cos(long_angle) + float(axis[0, 1]) * math.sin(long_angle))
    assert math.isclose(dot, 1.0, abs_tol=1e-5)


def test_coverage_area_and_prompt_modes() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        box = OrientedBox(*rng.uniform(108, 148, 2), *rng.uniform(3, 110, 2), rng.uniform(-90, 90))
        coords, labels = tokens(box)
        cov = box_coverage(coords, labels, 256)
        assert cov.shape == (1, 1, 256, 256)
        assert float(cov.min()) >= 0.0 and float(cov.max()) <= 1.0
        assert abs(float(cov.sum()) - box.w * box.h) < 0.015 * box.w * box.h + 1.0
        # box-only: the enclosing horizontal box
        lb = labels.clone()
        lb[0, :3] = -1
        x0, y0 = box.corners().min(0)
        x1, y1 = box.corners().max(0)
        hbox_area = float((x1 - x0) * (y1 - y0))
        assert abs(float(box_coverage(coords, lb, 256).sum()) - hbox_area) < 0.01 * hbox_area + 1
        # point-only: no box, no prior
        lp = labels.clone()
        lp[0, 3:] = -1
        assert float(box_coverage(coords, lp, 64).sum()) == 0.0


def test_coverage_of_a_pixel_aligned_box_is_exact() -> None:
    box = OrientedBox(128.0, 100.0, 20.0, 10.0, 0.0)  # covers x 118..138, y 95..105
    cov = box_coverage(*tokens(box), 256)[0, 0]
    assert float(cov[95:105, 118:138].min()) == 1.0
    assert float(cov.sum()) == 200.0
    cov4 = box_coverage(*tokens(box), 64)[0, 0]  # 4-pixel cells: edges at 1/4 and 1/2 of a cell
    assert float(cov4[23, 31]) == 0.25 and float(cov4[24, 29]) == 0.5
    assert float(cov4[24:26, 30:34].min()) == 1.0 and float(cov4[22].max()) == 0.0


def test_grown_checkpoint_reproduces_the_old_model() -> None:
    """--init-from: a box-prior model grown from a prior-free one starts as that model."""
    torch.manual_seed(0)
    old = build_sopseg_lite(box_prior=False).eval()
    new = build_sopseg_lite(box_prior=True).eval()
    grown = train.load_grown(new, old.state_dict())
    assert any("refiner.r1.conv1" in g for g in grown)
    assert any("prior_gain" in g for g in grown)
    box = OrientedBox(128.0, 128.0, 60.0, 20.0, 25.0)
    coords, labels = tokens(box)
    image = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        a, b = old(image, coords, labels), new(image, coords, labels)
    for k in ("p0", "p4", "p2", "p1", "iou", "iou0"):
        assert torch.allclose(a[k], b[k], atol=1e-5), k
    # and the prior does reach the output once its weights move
    with torch.no_grad():
        new.refiner.prior_gain.fill_(1.0)
        c = new(image, coords, labels)
    assert not torch.allclose(a["p1"], c["p1"], atol=1e-3)


def test_a_deeper_encoder_grown_from_a_checkpoint_starts_as_that_model() -> None:
    """Stretch 15's growth: one more attention block and one more stage-3 block, from a
    trained state dict; the grown model must give the old outputs before any training, and
    its state dict must say its depth (export and eval build the model from it)."""
    from sopseg.modeling import build_from_state, state_arch

    torch.manual_seed(3)
    old = build_sopseg_lite(input_size=192).eval()
    for p in old.parameters():  # trained-like weights: no zero branch anywhere
        p.data.add_(torch.randn_like(p) * 0.05)
    assert state_arch(old.state_dict()) == {"attn_blocks": 1, "stage3_depth": 3}
    new = build_sopseg_lite(input_size=192, attn_blocks=2, stage3_depth=4).eval()
    grown = train.load_grown(new, old.state_dict())
    assert any(n.startswith("image_encoder.blocks.1.") for n in grown)
    assert any(n.startswith("image_encoder.stage3.4.") for n in grown)
    image, coords, labels = torch.randn(2, 3, 192, 192), torch.rand(2, 5, 2) * 192, torch.ones(2, 5)
    with torch.no_grad():
        before = new(image, coords, labels)
        new.image_encoder.identity_init(1, 3)
        a, b = old(image, coords, labels), new(image, coords, labels)
    for k in ("p0", "p1", "iou"):
        assert torch.allclose(a[k], b[k], atol=1e-5), k
    assert not torch.allclose(before["p1"], b["p1"], atol=1e-3)  # the init mattered
    assert state_arch(new.state_dict()) == {"attn_blocks": 2, "stage3_depth": 4}
    again = build_from_state(new.state_dict(), 192).eval()
    with torch.no_grad():
        assert torch.equal(again(image, coords, labels)["p1"], b["p1"])
