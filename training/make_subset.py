"""Copy a byte-budgeted subset of the iSAID train tiles, for a machine that can take only so much.

The device machine that lends a GPU for a few minutes accepts 64 MiB with the whole working tree,
so the full train split (146 MB) cannot travel. This picks the tiles that carry the most of the
rare classes per byte: a tile's value is the sum over its instances of 1 / (instances of that
class in the split), ranked by value per byte, taken greedily up to the budget. The JPEG bytes
are copied as they are; the annotations keep only what `sopseg.data.CocoInstances` reads, with
repeated consecutive polygon vertices dropped (same filled mask, same min-area rectangle).

    /usr/bin/python3 training/make_subset.py --out .devdata/isaid_sub --budget 36000000

The output folder must stay out of git (the data's terms; see ../shared/data/README.md).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "isaid512", "train"))


def dedup(seg: list[float]) -> list[float]:
    """Polygon [x0, y0, x1, y1, ...] without repeated consecutive vertices (closing one too)."""
    out: list[tuple[float, float]] = []
    for i in range(0, len(seg), 2):
        pt = (seg[i], seg[i + 1])
        if not out or out[-1] != pt:
            out.append(pt)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return [v for pt in out for v in pt]


def long_side(ann: dict) -> float:
    """The longer side of the bounding box of an annotation's polygons, in pixels."""
    xs = [v for seg in ann["segmentation"] for v in seg[0::2]]
    ys = [v for seg in ann["segmentation"] for v in seg[1::2]]
    return max(max(xs) - min(xs), max(ys) - min(ys)) if xs else 0.0


def read_union(root: str, files: list[str]) -> dict:
    """The union of COCO files (images and categories by id; annotation ids must be disjoint)."""
    images: dict[int, dict] = {}
    cats: dict[int, dict] = {}
    anns: list[dict] = []
    for name in files:
        with gzip.open(os.path.join(root, name), "rt") as f:
            part = json.load(f)
        for im in part["images"]:
            images.setdefault(im["id"], im)
        for c in part["categories"]:
            cats.setdefault(c["id"], c)
        anns.extend(part["annotations"])
    ids = [a["id"] for a in anns]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"annotation ids repeat across {', '.join(files)}")
    return {
        "images": sorted(images.values(), key=lambda im: im["id"]),
        "annotations": anns,
        "categories": sorted(cats.values(), key=lambda c: c["id"]),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train-root", default=TRAIN)
    p.add_argument("--out", required=True)
    p.add_argument("--budget", type=int, default=36_000_000, help="bytes of JPEG tiles")
    p.add_argument(
        "--annotations",
        default="annotations.json.gz",
        help="comma-separated COCO files under --train-root, written as their union\n"
        "(15 iSAID classes: annotations.json.gz,annotations_extra.json.gz)",
    )
    p.add_argument(
        "--rarity-power",
        type=float,
        default=1.0,
        help="a tile's value is the sum over its counted instances of 1 / (counted instances of\n"
        "that class in the split) ** P: 1 favours the rare classes most, 0 counts instances\n"
        "(stretch 22 used 1 and kept 7 %% of the planes; 0.5 keeps more of the common classes)",
    )
    p.add_argument(
        "--min-side",
        type=float,
        default=0.0,
        help="count only instances whose polygon's bounding box has a side over this many\n"
        "pixels (for a stretch of the main graphs, which get the larger objects' crops);\n"
        "every instance of a chosen tile is still written",
    )
    args = p.parse_args(argv)
    coco = read_union(args.train_root, args.annotations.split(","))
    per: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    total: collections.Counter = collections.Counter()
    counted: collections.Counter = collections.Counter()
    for a in coco["annotations"]:
        total[a["category_id"]] += 1
        if long_side(a) > args.min_side:
            per[a["image_id"]][a["category_id"]] += 1
            counted[a["category_id"]] += 1
    img_dir = os.path.join(args.train_root, "images")
    size = {im["id"]: os.path.getsize(os.path.join(img_dir, im["file_name"])) for im in coco["images"]}
    value = {
        i: sum(n / counted[c] ** args.rarity_power for c, n in per[i].items()) for i in size
    }
    chosen: set[int] = set()
    used = 0
    for i in sorted(size, key=lambda i: (-value[i] / size[i], i)):
        if used + size[i] <= args.budget:
            chosen.add(i)
            used += size[i]
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    images = [
        {k: im[k] for k in ("id", "file_name", "width", "height")}
        for im in coco["images"]
        if im["id"] in chosen
    ]
    anns = [
        {
            "id": a["id"],
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "segmentation": [dedup(s) for s in a["segmentation"]],
        }
        for a in coco["annotations"]
        if a["image_id"] in chosen
    ]
    for im in images:
        shutil.copyfile(os.path.join(img_dir, im["file_name"]), os.path.join(args.out, "images", im["file_name"]))
    out = {"images": images, "annotations": anns, "categories": coco["categories"]}
    with gzip.open(os.path.join(args.out, "annotations.json.gz"), "wt", compresslevel=9) as f:
        json.dump(out, f, separators=(",", ":"))
    kept = collections.Counter(a["category_id"] for a in anns)
    names = {c["id"]: c["name"] for c in coco["categories"]}
    share = ", ".join(f"{names[c]} {kept[c] / total[c]:.0%}" for c in sorted(total))
    print(f"{len(images)} tiles, {used} bytes, {len(anns)} instances; share kept: {share}")


if __name__ == "__main__":
    main()
