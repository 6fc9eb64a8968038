"""Average two checkpoints of the same model (a "model soup" of two fine-tunes of one start).

    /usr/bin/python3 training/soup.py A.pt B.pt --weight 0.3 --out SOUP.pt

Every floating-point tensor of the model (weights and BatchNorm statistics) becomes
(1 - weight) * A + weight * B; integer tensors (BatchNorm's step counters) and everything
else in the checkpoint (optimizer, schedule, run record, input size) come from B, and the
run record says what was averaged. Both must have the same keys and shapes (the same
architecture and encoder depth)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from export import sha256_file
from train import save_checkpoint


def soup_state(a: dict, b: dict, weight: float) -> dict:
    if set(a) != set(b):
        raise ValueError(f"the two models differ in keys: {sorted(set(a) ^ set(b))[:5]}")
    out = {}
    for k, vb in b.items():
        va = a[k]
        if va.shape != vb.shape:
            raise ValueError(f"{k}: shape {tuple(va.shape)} against {tuple(vb.shape)}")
        out[k] = (1.0 - weight) * va + weight * vb if torch.is_floating_point(vb) else vb
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--weight", type=float, required=True, help="B's share, in [0, 1]")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    if not 0.0 <= args.weight <= 1.0:
        raise SystemExit(f"soup: --weight {args.weight} is not in [0, 1]")
    a = torch.load(args.a, map_location="cpu")
    b = torch.load(args.b, map_location="cpu")
    b["model"] = soup_state(a["model"], b["model"], args.weight)
    run = dict(b.get("run", {}))
    run["soup"] = {
        "a_sha256": sha256_file(str(args.a)),
        "b_sha256": sha256_file(str(args.b)),
        "weight_b": args.weight,
    }
    b["run"] = run
    save_checkpoint(str(args.out), b)
    print(f"soup: {1 - args.weight:g} x {args.a} + {args.weight:g} x {args.b} -> {args.out}")


if __name__ == "__main__":
    main()
