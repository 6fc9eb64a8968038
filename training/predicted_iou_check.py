"""How well a graph set's predicted IoU tracks the real IoU, with R3 (the IoU head on X1) and
without it (stage 1's IoU token, what graphs exported with `--small-without-r3` return).

Val instances (7-class annotations, shuffled with a seed) whose crop is at most
`--max-crop-side` source pixels, the bundle's small part (or the model) at `--size`, OPM prompt
from the GT box, class prompt on; IoU after paste-back against the GT mask.

    /usr/bin/python3 training/predicted_iou_check.py [--size 192] [--max-crop-side 96] [--n 1500]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sopseg.data import (  # noqa: E402
    CocoInstances,
    class_onehot,
    gt_mask,
    normalised_tensor,
    prompt_for,
    sample_crop,
)
from sopseg.evaluate import dil_for, iou_biou, paste_back  # noqa: E402
from sopseg.modeling import build_from_state  # noqa: E402
from eval_checkpoint import HERE, VAL  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--val-root", default=VAL)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--max-crop-side", type=float, default=96)
    p.add_argument("--n", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint, map_location="cpu")
    part = ck["small"] if ck.get("small") is not None else ck
    model = build_from_state(part["model"], args.size).eval()
    data = CocoInstances(args.val_root, preload=False)
    rows = []
    for k in np.random.default_rng(args.seed).permutation(len(data.instances)):
        inst = data.instances[k]
        crop, coords, labels = prompt_for(inst.obox, input_size=args.size)
        if crop.size > args.max_crop_side:
            continue
        tile = data.tile(inst.image_index)
        h, w = tile.shape[:2]
        image = sample_crop(normalised_tensor(tile), crop, args.size)
        ct = torch.from_numpy(coords.astype(np.float32))[None]
        lt = torch.from_numpy(labels.astype(np.float32))[None]
        k_cls = model.mask_decoder.num_classes
        cls = class_onehot(torch.tensor([inst.category_id]), k_cls) if k_cls else None
        gt = gt_mask(inst.polygons, w, h)
        row = []
        with torch.no_grad():
            emb, shallow = model.image_encoder(image)
            for without in (False, True):
                model.refiner.without_r3 = without
                out = model.decode(image, emb, shallow, ct, lt, cls)
                iou = iou_biou(paste_back(out["p1"][0, 0:1], crop, w, h), gt, dil_for(w, h))[0]
                row += [float(out["iou"][0, 0]), iou]
        rows.append(row)
        if len(rows) >= args.n:
            break
    r = np.array(rows)
    for name, c in (("with R3 (IoU head on X1)", 0), ("without R3 (stage 1's IoU token)", 2)):
        pred, true = r[:, c], r[:, c + 1]
        print(
            f"{name}: {len(r)} instances, real IoU {true.mean():.4f}, predicted {pred.mean():.4f},"
            f" correlation {np.corrcoef(pred, true)[0, 1]:.3f}, mean |error| {np.abs(pred - true).mean():.4f}"
        )


if __name__ == "__main__":
    main()
