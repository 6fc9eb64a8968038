"""One checkpoint file for a model whose small graphs have their own fine-tune.

    /usr/bin/python3 training/bundle.py --main MAIN.pt --small SMALL.pt --out BUNDLE.pt
    /usr/bin/python3 training/bundle.py --extract small BUNDLE.pt --out SMALL.pt

The runtime sends the crops up to `small_graphs.max_crop_side` source pixels to the small
graphs and every other crop to the main ones, so the two graph sets may carry different
weights of the same lineage: the small ones fine-tuned on those crops only
(`train.py --small-prob 1.0`). A bundle is MAIN.pt (its `model`, optimizer, run record...)
with SMALL.pt's weights and record under `small` (no optimizer: a later stretch starts from
them with `--init-from`, not `--resume`). `export.py` then writes the small graphs from
`small` and records it as `small_graphs.training`; `make_golden.py` checks them against it.
`--extract small` writes that part back as a plain checkpoint, for `train.py --init-from`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from export import sha256_file
from train import save_checkpoint

PART_KEYS = ("model", "step", "samples_seen", "wall_time", "scheduler", "run", "input_size")


def bundle(main: dict, small: dict, small_sha256: str) -> dict:
    """`main` with `small`'s weights and record as its `small` part."""
    if "small" in small:
        raise ValueError("the small checkpoint is itself a bundle: --extract small first")
    if set(main["model"]) != set(small["model"]):
        diff = sorted(set(main["model"]) ^ set(small["model"]))[:5]
        raise ValueError(f"the two checkpoints are not the same architecture: {diff}")
    part = {k: small[k] for k in PART_KEYS if k in small}
    part["source_sha256"] = small_sha256
    return {k: v for k, v in main.items() if k != "small"} | {"small": part}


def extract(ck: dict, name: str) -> dict:
    """The bundle part `name` as a plain checkpoint (for `train.py --init-from`)."""
    if name not in ck:
        raise ValueError(f"this checkpoint has no `{name}` part (not a bundle)")
    out = dict(ck[name])
    out.pop("source_sha256", None)
    out.setdefault("model_name", ck.get("model_name", "sopseg-lite"))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--main", type=Path, help="the main graphs' checkpoint")
    p.add_argument("--small", type=Path, help="the small graphs' checkpoint")
    p.add_argument("--extract", choices=["small"], help="write this part of BUNDLE as --out")
    p.add_argument("bundle", type=Path, nargs="?", help="with --extract: the bundle to read")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    try:
        if args.extract:
            if args.bundle is None:
                raise ValueError("--extract needs the bundle to read")
            out = extract(torch.load(args.bundle, map_location="cpu"), args.extract)
            what = f"the `{args.extract}` part of {args.bundle}"
        else:
            if args.main is None or args.small is None:
                raise ValueError("give --main and --small (or --extract small BUNDLE)")
            out = bundle(
                torch.load(args.main, map_location="cpu"),
                torch.load(args.small, map_location="cpu"),
                sha256_file(str(args.small)),
            )
            what = f"{args.main} with the small graphs' weights of {args.small}"
    except ValueError as e:
        raise SystemExit(f"bundle: {e}") from None
    save_checkpoint(str(args.out), out)
    print(f"bundle: {what} -> {args.out}")


if __name__ == "__main__":
    main()
