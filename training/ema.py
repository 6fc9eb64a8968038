"""Make a checkpoint's weight average (`train.py --ema`) its model.

    /usr/bin/python3 training/ema.py RUN.pt --out AVERAGED.pt

The output is RUN.pt with `model` replaced by the exponential moving average the run kept
(`ema`), and `ema` dropped; its run record says so. Everything downstream (export.py,
make_golden.py, eval_checkpoint.py, a later --init-from) reads `model`, so the output is
what they use. Not for --resume: the optimizer state belongs to the run's own weights."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from export import sha256_file
from train import save_checkpoint


def take_ema(ck: dict) -> dict:
    """A copy of checkpoint `ck` whose model is its weight average."""
    if "ema" not in ck:
        raise ValueError("this checkpoint has no weight average (trained without --ema)")
    ema, model = ck["ema"], ck["model"]
    if set(ema) != set(model):
        raise ValueError(f"the average and the model differ in keys: {sorted(set(ema) ^ set(model))[:5]}")
    out = {k: v for k, v in ck.items() if k != "ema"}
    out["model"] = {k: v.clone() for k, v in ema.items()}
    run = dict(ck.get("run", {}))
    run["weights"] = "ema"
    out["run"] = run
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu")
    try:
        out = take_ema(ck)
    except ValueError as e:
        raise SystemExit(f"ema: {args.checkpoint}: {e}") from None
    out["run"]["ema_of_sha256"] = sha256_file(str(args.checkpoint))
    save_checkpoint(str(args.out), out)
    print(f"ema: the weight average of {args.checkpoint} (step {ck['step']}) -> {args.out}")


if __name__ == "__main__":
    main()
