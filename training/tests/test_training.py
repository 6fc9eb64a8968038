import numpy as np
import torch
import torch.nn.functional as F

from sopseg.data import edge_target
from sopseg.loss import mask_iou, sopseg_loss
from sopseg.modeling import build_sopseg_lite


def tiny_batch(b: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(b, 1, 256, 256)
    mask[:, :, 96:160, 80:176] = 1.0
    image = torch.randn(b, 3, 256, 256, generator=g) * 0.2 + mask * 1.5
    t1 = torch.cat([mask, edge_target(mask)], dim=1)
    coords = torch.tensor(
        [[104.0, 128.0], [128.0, 128.0], [152.0, 128.0], [80.0, 96.0], [176.0, 160.0]]
    )
    return {
        "image": image,
        "coords": coords.expand(b, -1, -1).clone(),
        "labels": torch.tensor([[1.0, 1.0, 1.0, 2.0, 3.0]]).expand(b, -1).clone(),
        "t1": t1,
        "t2": F.avg_pool2d(t1, 2),
        "t4": F.avg_pool2d(t1, 4),
    }


def test_optimisation_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = tiny_batch()
    losses = []
    for _ in range(4):
        out = model(batch["image"], batch["coords"], batch["labels"])
        loss, logs = sopseg_loss(out, batch)
        assert np.isfinite(logs["loss"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_edge_target_is_a_smoothed_boundary() -> None:
    m = torch.zeros(1, 1, 32, 32)
    m[..., 8:24, 8:24] = 1.0
    e = edge_target(m)
    assert float(e[0, 0, 16, 16]) == 0.0  # interior
    assert float(e[0, 0, 8, 16]) >= 0.5  # on the boundary ring
    assert float(e[0, 0, 2, 2]) == 0.0  # far outside
    assert float(e.max()) <= 1.0


def test_mask_iou() -> None:
    t = torch.zeros(1, 8, 8)
    t[:, :4] = 1.0
    logits = torch.full((1, 8, 8), -1.0)
    logits[:, :2] = 1.0
    assert float(mask_iou(logits, t)[0]) == 0.5
