"""Validation at image resolution after paste-back (CONTRACT), IoU and Boundary IoU (METHOD 6)."""

from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .data import (
    CocoInstances,
    class_onehot,
    gt_mask,
    normalised_tensor,
    prompt_for,
    sample_crop,
)
from .geometry import Crop, OrientedBox, paste_grid, paste_window


def subset_indices(data: CocoInstances, per_class: int = 150, seed: int = 0) -> list[int]:
    """A fixed, class-capped subset of instance indices (seeded), sorted."""
    rng = np.random.default_rng(seed)
    out: list[int] = []
    for c in sorted(data.by_class):
        members = np.array(data.by_class[c])
        if len(members) > per_class:
            members = rng.choice(members, per_class, replace=False)
        out.extend(int(k) for k in members)
    return sorted(out)


def boundary_band(mask: np.ndarray, dil: int) -> np.ndarray:
    """mask minus its 3x3 erosion applied `dil` times, zero padding outside."""
    k = np.ones((3, 3), np.uint8)
    er = cv2.erode(mask, k, iterations=dil, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return mask & (1 - er)


def iou_biou(pred: np.ndarray, gt: np.ndarray, dil: int) -> tuple[float, float]:
    """IoU and Boundary IoU of two uint8 0/1 masks of the whole image."""
    inter = int((pred & gt).sum())
    union = int((pred | gt).sum())
    iou = inter / union if union else 1.0
    bp, bg = boundary_band(pred, dil), boundary_band(gt, dil)
    bi = int((bp & bg).sum())
    bu = int((bp | bg).sum())
    return iou, (bi / bu if bu else 1.0)


def dil_for(width: int, height: int) -> int:
    return max(1, int(round(0.005 * math.hypot(width, height))))


def paste_back(logits: torch.Tensor, crop: Crop, width: int, height: int) -> np.ndarray:
    """Image-size uint8 mask from model-frame logits [1, S, S] (CONTRACT paste-back)."""
    out = np.zeros((height, width), np.uint8)
    win = paste_window(crop, width, height)
    i0, i1, j0, j1 = win
    if i1 <= i0 or j1 <= j0:
        return out
    grid = torch.from_numpy(paste_grid(crop, win, logits.shape[-1])).unsqueeze(0)
    v = F.grid_sample(
        logits[None].float(), grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    out[j0:j1, i0:i1] = (v[0, 0] > 0).numpy().astype(np.uint8)
    return out


def filled_obox(corners: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels whose centre lies inside the (convex) polygon `corners` [4, 2] (pixel frame)."""
    xs = np.arange(width) + 0.5
    ys = np.arange(height) + 0.5
    x, y = np.meshgrid(xs, ys)
    inside = np.ones((height, width), bool)
    c = corners
    area2 = sum(c[i, 0] * c[(i + 1) % 4, 1] - c[(i + 1) % 4, 0] * c[i, 1] for i in range(4))
    sign = 1.0 if area2 >= 0 else -1.0
    for i in range(4):
        a, b = c[i], c[(i + 1) % 4]
        cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
        inside &= sign * cross >= 0
    return inside.astype(np.uint8)


def summarise(rows: list[dict], categories: dict[int, str]) -> dict:
    """Per-class means, mIoU / mBIoU over classes, means over all instances (percent)."""
    per_class = {}
    for cid in sorted({r["category_id"] for r in rows}):
        rr = [r for r in rows if r["category_id"] == cid]
        per_class[categories[cid]] = {
            "n": len(rr),
            "iou": 100.0 * float(np.mean([r["iou"] for r in rr])),
            "biou": 100.0 * float(np.mean([r["biou"] for r in rr])),
        }
    return {
        "per_class": per_class,
        "mIoU": float(np.mean([v["iou"] for v in per_class.values()])),
        "mBIoU": float(np.mean([v["biou"] for v in per_class.values()])),
        "IoU_all": 100.0 * float(np.mean([r["iou"] for r in rows])),
        "BIoU_all": 100.0 * float(np.mean([r["biou"] for r in rows])),
        "n": len(rows),
    }


def floor_rows(data: CocoInstances, indices: list[int]) -> list[dict]:
    """The filled-oriented-box floor (GT min-area rectangle filled as the mask)."""
    rows = []
    for k in indices:
        inst = data.instances[k]
        h, w = data.tile(inst.image_index).shape[:2]
        gt = gt_mask(inst.polygons, w, h)
        pred = filled_obox(inst.obox.corners(), w, h)
        iou, biou = iou_biou(pred, gt, dil_for(w, h))
        rows.append({"category_id": inst.category_id, "iou": iou, "biou": biou})
    return rows


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    data: CocoInstances,
    indices: list[int],
    batch: int = 32,
    prompt_mode: str = "opm",
    log: Callable[[str], None] | None = None,
    boxes: dict[int, OrientedBox] | None = None,
    context: float = 1.0,
) -> list[dict]:
    """Run the model on oriented-box prompts (centred RAM crops), paste back, score.

    The prompt is the GT oriented box unless `boxes` gives another one for an instance
    (e.g. a jittered, detector-like box). `prompt_mode`: "opm" (3 points + box), "box"
    (horizontal box only) or "points" (the 3 points only). `context`: the RAM crop's
    (`ram_side`).
    """
    model.eval()
    dev = next(model.parameters()).device
    n = model.input_size
    rows: list[dict] = []
    for s in range(0, len(indices), batch):
        chunk = indices[s : s + batch]
        imgs, coords, labels, crops = [], [], [], []
        for k in chunk:
            inst = data.instances[k]
            box = boxes.get(k, inst.obox) if boxes is not None else inst.obox
            crop, c, lab = prompt_for(box, input_size=n, context=context)
            if prompt_mode == "box":
                c[0:3], lab[0:3] = 0.0, -1.0
            elif prompt_mode == "points":
                c[3:5], lab[3:5] = 0.0, -1.0
            tile = normalised_tensor(data.tile(inst.image_index))
            imgs.append(sample_crop(tile, crop, n)[0])
            coords.append(torch.from_numpy(c.astype(np.float32)))
            labels.append(torch.from_numpy(lab.astype(np.float32)))
            crops.append(crop)
        cls = None
        if getattr(model.mask_decoder, "class_embed", None) is not None:
            cats = torch.tensor([data.instances[k].category_id for k in chunk])
            cls = class_onehot(cats, model.mask_decoder.num_classes).to(dev)
        out = model(*(torch.stack(t).to(dev) for t in (imgs, coords, labels)), cls)
        out = {k: v.cpu() for k, v in out.items()}
        if log is not None:
            log(f"evaluate: {min(s + batch, len(indices))}/{len(indices)}")
        for j, k in enumerate(chunk):
            inst = data.instances[k]
            h, w = data.tile(inst.image_index).shape[:2]
            pred = paste_back(out["p1"][j, 0:1], crops[j], w, h)
            gt = gt_mask(inst.polygons, w, h)
            iou, biou = iou_biou(pred, gt, dil_for(w, h))
            rows.append(
                {
                    "ann_id": inst.ann_id,
                    "category_id": inst.category_id,
                    "iou": iou,
                    "biou": biou,
                    "iou_pred": float(out["iou"][j, 0]),
                }
            )
    return rows
