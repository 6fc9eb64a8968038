"""SOPSeg loss (METHOD section 4): BCE + Dice on mask and edge at every scale + IoU term."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice per sample (over H, W), averaged; logits/target [B, H, W]."""
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    inter = (p * t).sum(1)
    return (1.0 - (2.0 * inter + eps) / (p.sum(1) + t.sum(1) + eps)).mean()


def bce_dice(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, target) + dice_loss(logits, target)


def mask_iou(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU per sample [B] of (logits > 0) vs (target > 0.5); 1 when both are empty."""
    p = (logits > 0).flatten(1).float()
    t = (target > 0.5).flatten(1).float()
    inter = (p * t).sum(1)
    union = p.sum(1) + t.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1.0), torch.ones_like(union))


def sopseg_loss(
    out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], iou_weight: float = 5.0
) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum over (p0 vs t4), (p4 vs t4), (p2 vs t2), (p1 vs t1) of BCE + Dice on mask and edge,
    plus iou_weight * SmoothL1 of both IoU predictions vs the detached true IoU of the
    thresholded full-resolution mask (and of M0 for the stage-1 IoU token)."""
    pairs = [("p0", "t4"), ("p4", "t4"), ("p2", "t2"), ("p1", "t1")]
    logs: dict[str, float] = {}
    total = torch.zeros((), device=out["p1"].device)
    for pk, tk in pairs:
        pred, tgt = out[pk], batch[tk]
        lm = bce_dice(pred[:, 0], tgt[:, 0])
        le = bce_dice(pred[:, 1], tgt[:, 1])
        total = total + lm + le
        logs[f"{pk}_mask"] = float(lm)
        logs[f"{pk}_edge"] = float(le)
    with torch.no_grad():
        iou1 = mask_iou(out["p1"][:, 0], batch["t1"][:, 0])
        iou0 = mask_iou(out["p0"][:, 0], batch["t4"][:, 0])
    l_iou = F.smooth_l1_loss(out["iou"][:, 0], iou1) + F.smooth_l1_loss(out["iou0"][:, 0], iou0)
    total = total + iou_weight * l_iou
    logs["iou_loss"] = float(l_iou)
    logs["train_iou"] = float(iou1.mean())
    logs["loss"] = float(total)
    return total, logs
