"""Golden fixtures for the Deno runtime: test/testdata/golden/golden.json.

    /usr/bin/python3 training/make_golden.py                 # model = models/sopseg-lite
    /usr/bin/python3 training/make_golden.py --random        # the --random export (seed 0)

A model with small graphs (`small_graphs` in its manifest, input size N) gets a second file
for them, golden_<N>.json, on the same instances at N (with the bundle's small weights when the
checkpoint is a bundle, training/bundle.py).

For 24 real val instances (3 per class, seeded, plus a crop past the tile border, the
smallest and the largest object) it records, with NO image pixels:

- the image file (relative to ../shared/data/isaid512/val/images), its size, the GT
  oriented box (pixel frame) and its corners, the RAM crop {x0, y0, size} (centred);
- `point_coords` / `point_labels` (model frame, CONTRACT order); `class_index`, the class
  prompt's one-hot index (the iSAID category id) for a model with a class prompt, else null;
- checksums of the crop tensor (float32[3,S,S], S = the manifest's input_size, normalised):
  per-channel sum and sum of squares, and 200 values at seeded (c, v, u) positions; same for `image_embeddings` and
  `shallow_features`;
- PyTorch outputs: `mask_logits` on every 4th model pixel (rows/cols 0, 4, ..., S - 4) as
  base64 little-endian float32 [(S/4)*(S/4)], `edge_logits` likewise, `iou_predictions`;
- the pasted-back mask at image resolution (CONTRACT paste-back, logit > 0) as COCO RLE
  (uncompressed counts, column-major), its area, and its IoU against the GT polygons.

Expected agreement (PyTorch float32 vs the runtime):
- crop tensor values: |diff| <= 2e-4 (grid_sample float32 vs JS float64 math: a sample position
  in a 512-px tile is off by up to ~3e-5 px in float32, times a normalised gradient of up to ~4.4
  per px; 1.06e-4 was seen at input size 288);
- sums: relative 1e-5;
- image_embeddings / shallow_features samples: |diff| <= 1e-3 (ONNX Runtime vs PyTorch);
- mask/edge logits: |diff| <= 1e-2 + 1e-3 * |value| (float32 through ~60 layers);
- pasted mask: identical except pixels whose sampled logit is within 1e-2 of 0.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
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
from sopseg.evaluate import iou_biou, dil_for, paste_back  # noqa: E402
from sopseg.modeling import build_from_state, build_sopseg_lite  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VAL = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "isaid512", "val"))


def rle_encode(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE (column-major, counts start with a run of zeros)."""
    flat = mask.astype(np.uint8).flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def tensor_summary(t: torch.Tensor, rng: np.random.Generator, n: int = 200) -> dict:
    """Per-channel sum / sum of squares (float64) and n seeded samples of a [C,H,W] tensor."""
    a = t.detach().double().numpy()
    c, h, w = a.shape
    pos = np.stack([rng.integers(c, size=n), rng.integers(h, size=n), rng.integers(w, size=n)], 1)
    return {
        "shape": [c, h, w],
        "sum": a.reshape(c, -1).sum(1).tolist(),
        "sum_sq": (a.reshape(c, -1) ** 2).sum(1).tolist(),
        "mean": float(a.mean()),
        "std": float(a.std()),
        "samples": {
            "chw": pos.tolist(),
            "values": [float(a[i, j, k]) for i, j, k in pos],
        },
    }


def pick_instances(data: CocoInstances, seed: int) -> list[tuple[int, str]]:
    """3 per class (seeded) + the smallest, the largest, and one crop past the tile border.

    Only well-formed instances: fill area >= 30 % of the oriented box area (the tiles hold
    some slivers traced along the tile border, whose polygons fill almost nothing).
    """
    rng = np.random.default_rng(seed)
    area: dict[int, int] = {}
    ok: dict[int, list[int]] = {}
    for k, inst in enumerate(data.instances):
        im = data.images[inst.image_index]
        h, w = im["height"], im["width"]
        a = int(gt_mask(inst.polygons, w, h).sum())
        if a >= 0.3 * inst.obox.w * inst.obox.h:
            area[k] = a
            ok.setdefault(inst.category_id, []).append(k)
    picks: list[tuple[int, str]] = []
    for cid in sorted(ok):
        for k in rng.choice(ok[cid], 3, replace=False):
            picks.append((int(k), "random"))
    chosen = {k for k, _ in picks}
    rest = [k for k in area if k not in chosen]
    picks.append((min(rest, key=lambda k: (area[k], k)), "smallest"))
    picks.append((max(rest, key=lambda k: (area[k], -k)), "largest"))
    chosen = {k for k, _ in picks}
    for k in rng.permutation(rest):
        k = int(k)
        inst = data.instances[k]
        crop, _, _ = prompt_for(inst.obox)
        w = data.images[inst.image_index]["width"]
        if k not in chosen and (crop.x0 < -8 or crop.y0 < -8 or crop.x0 + crop.size > w + 8):
            picks.append((k, "crop-past-border"))
            break
    return picks


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--val-root", default=VAL)
    p.add_argument("--model-dir", default=os.path.join(ROOT, "models", "sopseg-lite"))
    p.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--random", action="store_true", help="random init, seed 0 (as export --random)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(ROOT, "test", "testdata", "golden", "golden.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(2)

    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    torch.manual_seed(0)
    n = int(manifest["input_size"])
    small_model = None
    if args.random:
        if manifest.get("training", {}).get("random_init") is not True:
            raise SystemExit(f"Cannot make golden: {args.model_dir} is not a --random export")
        model = build_sopseg_lite(input_size=n)
    else:
        with open(args.checkpoint, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if manifest.get("training", {}).get("checkpoint_sha256") != sha:
            raise SystemExit(
                "Cannot make golden: the model directory was not exported from this checkpoint"
            )
        ck = torch.load(args.checkpoint, map_location="cpu")
        model = build_from_state(ck["model"], n)
        if ck.get("small") is not None:
            # a bundle (training/bundle.py): the small graphs carry their own weights
            small_model = build_from_state(ck["small"]["model"], n).eval()
    model.eval()

    data = CocoInstances(args.val_root, preload=False)
    picks = pick_instances(data, args.seed)
    sets = [(n, manifest, args.out)]
    small = manifest.get("small_graphs")
    if small:
        stem, ext = os.path.splitext(args.out)
        sets.append((int(small["input_size"]), small, f"{stem}_{small['input_size']}{ext}"))
    for size, graphs, out in sets:
        m = small_model if small_model is not None and graphs is small else model
        m.set_input_size(size)
        m.refiner.without_r3 = bool(graphs.get("without_r3"))
        files = (graphs["encoder"]["file"], graphs["decoder"]["file"])
        write_golden(m, data, picks, args, manifest, size, files, out)


def write_golden(
    model, data: CocoInstances, picks: list, args, manifest: dict, n: int, files, out_path: str
) -> None:
    """The fixtures of one graph set (input size `n`, graph files `files`) at `out_path`."""
    rng = np.random.default_rng(args.seed + 1)
    records = []
    sub = np.arange(0, n, 4)
    context = float(manifest.get("ram", {}).get("context", 1.0))  # the runtime's crops
    for k, why in picks:
        inst = data.instances[k]
        tile = data.tile(inst.image_index)
        h, w = tile.shape[:2]
        crop, coords, labels = prompt_for(inst.obox, input_size=n, context=context)
        image = sample_crop(normalised_tensor(tile), crop, n)
        ct = torch.from_numpy(coords.astype(np.float32))[None]
        lt = torch.from_numpy(labels.astype(np.float32))[None]
        with torch.no_grad():
            emb, shallow = model.image_encoder(image)
            k_cls = model.mask_decoder.num_classes
            cls = class_onehot(torch.tensor([inst.category_id]), k_cls) if k_cls else None
            out = model.decode(image, emb, shallow, ct, lt, cls)
        logits = out["p1"][0]
        pasted = paste_back(logits[0:1], crop, w, h)
        gt = gt_mask(inst.polygons, w, h)
        iou, biou = iou_biou(pasted, gt, dil_for(w, h))
        b = inst.obox
        records.append(
            {
                "why": why,
                "image": data.images[inst.image_index]["file_name"],
                "image_size": [w, h],
                "ann_id": inst.ann_id,
                "category": data.categories[inst.category_id],
                "obox": {"cx": b.cx, "cy": b.cy, "w": b.w, "h": b.h, "angle_deg": b.angle},
                "obox_corners": b.corners().tolist(),
                "crop": {"x0": crop.x0, "y0": crop.y0, "size": crop.size},
                "point_coords": coords.tolist(),
                "point_labels": labels.tolist(),
                # the class prompt's one-hot index (models with a class prompt)
                "class_index": inst.category_id if k_cls else None,
                "crop_tensor": tensor_summary(image[0], rng),
                "image_embeddings": tensor_summary(emb[0], rng),
                "shallow_features": tensor_summary(shallow[0], rng),
                "mask_logits_every4_b64f32": b64_f32(logits[0][sub][:, sub].numpy()),
                "edge_logits_every4_b64f32": b64_f32(logits[1][sub][:, sub].numpy()),
                "iou_prediction": float(out["iou"][0, 0]),
                "pasted_mask_rle": rle_encode(pasted),
                "pasted_mask_area": int(pasted.sum()),
                "gt_area": int(gt.sum()),
                "iou_vs_gt": iou,
                "biou_vs_gt": biou,
            }
        )
    doc = {
        "about": (__doc__ or "").strip(),
        "images_root": "../shared/data/isaid512/val/images",
        "model_dir": os.path.relpath(args.model_dir, ROOT),
        "model_files_sha256": {f: manifest["files_sha256"][f] for f in files}
        if manifest.get("files_sha256")
        else None,
        "model_training": manifest.get("training"),
        "input_size": n,
        "logits_grid": f"rows/cols 0,4,...,{n - 4} of the {n}x{n} model frame, row-major "
        f"[{n // 4}][{n // 4}]",
        "tolerance": {
            "crop_value_abs": 2e-4,
            "sum_rel": 1e-5,
            "features_abs": 1e-3,
            "logits_abs": 1e-2,
            "logits_rel": 1e-3,
            "pasted_mask": "identical where |sampled logit| > 1e-2",
        },
        "instances": records,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f)
    print(f"{out_path}: {len(records)} instances, {os.path.getsize(out_path) / 1e6:.2f} MB")




if __name__ == "__main__":
    main()
