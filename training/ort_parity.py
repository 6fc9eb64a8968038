"""Check an exported model directory against PyTorch with onnxruntime-web (through Deno).

No onnxruntime for Python here; the runtime's own engine is onnxruntime-web, so this runs
`training/ort_parity.ts` with Deno on tensors dumped from PyTorch: batch 3, with an OPM
prompt, a box-only prompt and a points-only prompt.

    /usr/bin/python3 training/ort_parity.py                  # models/sopseg-lite, last.pt
    /usr/bin/python3 training/ort_parity.py --random         # the --random export
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import example_inputs  # noqa: E402
from sopseg.modeling import build_from_state, build_sopseg_lite  # noqa: E402
from sopseg.modeling.onnx_wrappers import decoder_inputs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join(ROOT, "models", "sopseg-lite"))
    p.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--random", action="store_true")
    p.add_argument("--tol", type=float, default=1e-3)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        size = int(json.load(f)["input_size"])
    if args.random:
        model = build_sopseg_lite(input_size=size)
    else:
        model = build_from_state(torch.load(args.checkpoint, map_location="cpu")["model"], size)
    model.eval()
    x = example_inputs(model, 3, seed=5)
    x["point_labels"][1, 0:3] = -1.0
    x["point_coords"][1, 0:3] = 0.0
    x["point_labels"][2, 3:5] = -1.0
    x["point_coords"][2, 3:5] = 0.0
    with torch.no_grad():
        out = model.decode(*(x[k] for k in decoder_inputs(model)))
    tensors = dict(x)
    tensors["mask_logits"] = out["p1"][:, 0:1]
    tensors["iou_predictions"] = out["iou"]
    with tempfile.TemporaryDirectory() as tmp:
        meta = {}
        for k, v in tensors.items():
            v.numpy().astype("<f4").tofile(os.path.join(tmp, f"{k}.bin"))
            meta[k] = list(v.shape)
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f)
        res = subprocess.run(
            ["deno", "run", "-A", "--config", "deno.json", "training/ort_parity.ts"]
            + [args.model_dir, tmp],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        return 1
    result = json.loads(res.stdout.strip().splitlines()[-1])
    scale = {k: float(np.abs(v.numpy()).max()) for k, v in tensors.items()}
    ok = True
    for k, r in result.items():
        good = r["max_abs_diff"] <= args.tol * max(1.0, scale[k])
        ok &= good
        print(
            f"{k:18s} {r['dims']} max|diff| {r['max_abs_diff']:.3g} "
            f"(max|value| {scale[k]:.3g}) {'ok' if good else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
