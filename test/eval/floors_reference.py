#!/usr/bin/env python3
"""Reference numbers for the prompt-fill floors (METHOD.md section 6), from OpenCV.

Independent of the TypeScript code: GT mask = cv2.fillPoly of the integer
polygon vertices (all parts); prompt = cv2.minAreaRect of all vertices.

  obb-fill:  cv2.fillPoly of cv2.boxPoints(minAreaRect), corners rounded half up
  hbox-fill: the COCO bbox [x, y, w, h] filled inclusively (x..x+w, y..y+h)
  BIoU:      band = mask - erode(mask, (2d+1)^2 square, zeros outside the image),
             d = max(1, round(0.005 * image diagonal)); BIoU = IoU of the bands

Usage: floors_reference.py ANNOTATIONS.json[.gz] [MAX_TILES]  -> JSON on stdout
(scores in %, per class and mIoU / mBIoU / all-instance means).
Needs numpy and opencv-python (cv2).
"""

import gzip
import json
import math
import sys
from collections import defaultdict

import cv2
import numpy as np


def band(m: np.ndarray, dil: int) -> np.ndarray:
    k = np.ones((2 * dil + 1, 2 * dil + 1), np.uint8)
    return m & ~cv2.erode(m, k, borderType=cv2.BORDER_CONSTANT, borderValue=0) & 1


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = np.count_nonzero(a | b)
    return 1.0 if u == 0 else np.count_nonzero(a & b) / u


def main() -> None:
    path = sys.argv[1]
    max_tiles = int(sys.argv[2]) if len(sys.argv) > 2 else None
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rt") as f:
        d = json.load(f)
    cats = {c["id"]: c["name"] for c in d["categories"]}
    images = d["images"][:max_tiles] if max_tiles else d["images"]
    by_id = {im["id"]: im for im in images}
    scores: dict[str, dict[str, list[tuple[float, float]]]] = {
        "obb-fill": defaultdict(list),
        "hbox-fill": defaultdict(list),
    }
    for a in d["annotations"]:
        im = by_id.get(a["image_id"])
        if im is None or a.get("iscrowd", 0):
            continue
        w_img, h_img = im["width"], im["height"]
        dil = max(1, int(round(0.005 * math.hypot(w_img, h_img))))
        parts = [np.array(p, np.float64).reshape(-1, 2) for p in a["segmentation"]]
        pts = np.concatenate(parts)
        corners = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32)))
        # a window around everything, padded so that the erosion sees background around it
        pad = dil + 4
        x0 = int(math.floor(min(pts[:, 0].min(), corners[:, 0].min()))) - pad
        y0 = int(math.floor(min(pts[:, 1].min(), corners[:, 1].min()))) - pad
        x1 = int(math.ceil(max(pts[:, 0].max(), corners[:, 0].max()))) + pad
        y1 = int(math.ceil(max(pts[:, 1].max(), corners[:, 1].max()))) + pad
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        inside = ((xs >= 0) & (xs < w_img) & (ys >= 0) & (ys < h_img)).astype(np.uint8)
        gt = np.zeros(xs.shape, np.uint8)
        cv2.fillPoly(gt, [np.round(p - [x0, y0]).astype(np.int32) for p in parts], 1)
        gt &= inside
        gt_band = band(gt, dil)
        obb = np.zeros(xs.shape, np.uint8)
        cv2.fillPoly(obb, [np.floor(corners - [x0, y0] + 0.5).astype(np.int32)], 1)
        bx, by, bw, bh = a["bbox"]
        hbox = ((xs >= bx) & (xs <= bx + bw) & (ys >= by) & (ys <= by + bh)).astype(np.uint8)
        name = cats[a["category_id"]]
        for kind, pred in (("obb-fill", obb), ("hbox-fill", hbox)):
            pred &= inside
            scores[kind][name].append((iou(gt, pred), iou(gt_band, band(pred, dil))))
    out = {}
    for kind, per in scores.items():
        classes = {
            c: {
                "instances": len(v),
                "iou": 100 * float(np.mean([t[0] for t in v])),
                "boundaryIou": 100 * float(np.mean([t[1] for t in v])),
            }
            for c, v in sorted(per.items())
        }
        every = [t for v in per.values() for t in v]
        out[kind] = {
            "classes": classes,
            "mIoU": float(np.mean([c["iou"] for c in classes.values()])),
            "mBIoU": float(np.mean([c["boundaryIou"] for c in classes.values()])),
            "allIoU": 100 * float(np.mean([t[0] for t in every])),
            "allBIoU": 100 * float(np.mean([t[1] for t in every])),
            "instances": len(every),
        }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
