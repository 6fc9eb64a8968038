"""Evaluate a checkpoint on iSAID val: per-class IoU / Boundary IoU after paste-back.

    /usr/bin/python3 training/eval_checkpoint.py                       # 150 per class, OPM
    /usr/bin/python3 training/eval_checkpoint.py --per-class 0 --modes opm,box,points --jitter

`--per-class 0` uses every val instance (33,768; slow on 2 cores). `--jitter` adds a second
pass per mode with detector-like noise on the oriented box (seeded; same noise model as
training). Writes training/runs/eval_<name>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sopseg.data import CocoInstances, jitter_obox  # noqa: E402
from sopseg.evaluate import evaluate, floor_rows, subset_indices, summarise  # noqa: E402
from sopseg.modeling import build_from_state, checkpoint_input_size  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VAL = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "isaid512", "val"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--val-root", default=VAL)
    p.add_argument("--per-class", type=int, default=150, help="0: all instances")
    p.add_argument("--modes", default="opm", help="comma list of opm, box, points")
    p.add_argument("--jitter", action="store_true", help="also evaluate with jittered boxes")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--name", default="")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = build_from_state(ck["model"], checkpoint_input_size(ck))
    data = CocoInstances(args.val_root, preload=True)
    if args.per_class > 0:
        idx = subset_indices(data, args.per_class, seed=0)
    else:
        idx = list(range(len(data.instances)))
    rng = np.random.default_rng(123)
    jittered = {k: jitter_obox(data.instances[k].obox, rng) for k in idx}
    results: dict[str, dict] = {
        "floor_filled_gt_obox": summarise(floor_rows(data, idx), data.categories)
    }
    for mode in args.modes.split(","):
        for jit in ([False, True] if args.jitter else [False]):
            t0 = time.time()
            rows = evaluate(model, data, idx, prompt_mode=mode, boxes=jittered if jit else None)
            key = f"{mode}{'_jitter' if jit else ''}"
            results[key] = summarise(rows, data.categories)
            results[key]["seconds"] = time.time() - t0
    header = f"{'run':24s} {'mIoU':>6s} {'mBIoU':>6s} {'IoU_all':>7s} | per class IoU"
    print(header)
    for key, s in results.items():
        per = " ".join(f"{c[:5]}:{v['iou']:.1f}" for c, v in s["per_class"].items())
        print(f"{key:24s} {s['mIoU']:6.2f} {s['mBIoU']:6.2f} {s['IoU_all']:7.2f} | {per}")
    out = {
        "checkpoint": os.path.relpath(args.checkpoint, HERE),
        "step": ck["step"],
        "samples_seen": ck["samples_seen"],
        "instances": len(idx),
        "results": results,
    }
    name = args.name or f"step{ck['step']}_n{len(idx)}"
    path = os.path.join(HERE, "runs", f"eval_{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(path)


if __name__ == "__main__":
    main()
