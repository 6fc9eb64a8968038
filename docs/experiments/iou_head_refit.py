"""Can a refitted predicted-IoU head steer the box search better? (2026-12-05, evening: no.)

The box search (`--box-search on`) keeps a moved box's mask when its predicted IoU beats the given
box's by 0.05; picking the truly best of the five candidates would give +5.4 under the `heavy`
preset, the predicted IoU gets +0.7. The main part's IoU head is small (4x4 mean of R3's 8
channels, a 3x3 conv to 16, global mean, linear), so this asks whether the information to rank
the candidates is there, with everything else frozen (the masks stay the same):

    # what the IoU head sees for each of the 5 candidates (given box + 4 moves of 0.06 x the
    # long side), and each candidate mask's true IoU; crops over 96 px (the main graphs)
    python3 docs/experiments/iou_head_refit.py gen train 1500 1 /tmp/ih/train1.npz mix
    python3 docs/experiments/iou_head_refit.py gen train 1500 2 /tmp/ih/train2.npz mix
    python3 docs/experiments/iou_head_refit.py gen val 500 7 /tmp/ih/val.npz clean,heavy
    # the head refitted (A: same shape, from the shipped weights; Bw: 32 wide, also fed the mask
    # probability, the box coverage and their product at 1/4), MSE + a pairwise ranking loss
    python3 docs/experiments/iou_head_refit.py conv /tmp/ih/train1.npz,/tmp/ih/train2.npz \
        /tmp/ih/val.npz A 1 3
    # a linear / 16-unit ranker on scalar features (predicted IoUs of both stages, mask inside /
    # outside the box, mask on the crop's border, uncertainty, mask on the box's edge band)
    python3 docs/experiments/iou_head_refit.py scalar /tmp/ih/train1.npz,... /tmp/ih/val.npz
    # the val instances in two halves (/tmp/ih/val_a.npz, val_b.npz), to fit on one, judge the other
    python3 docs/experiments/iou_head_refit.py halves /tmp/ih/val.npz

`mix` draws the training box-error mixture (tail 1.6, relative share 0.65; a quarter clean);
`heavy` is `deno task eval`'s heavy preset. Each line printed: the mean true IoU of the given
box, then the gain of the pick at margins 0-0.12 (instances, not class means).
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
CHECKPOINT = os.path.join(ROOT, "training", "checkpoints", "last.pt")
from sopseg.geometry import OrientedBox  # noqa: E402

DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "isaid512"))
MARGINS = (0.0, 0.02, 0.05, 0.08, 0.12)


def heavy(box: OrientedBox, rng: np.random.Generator) -> OrientedBox:
    """One box under the `heavy` preset's distribution (src/eval/prompt_noise.ts; its own draws)."""
    long = max(box.w, box.h)
    du, dv = rng.normal(0, 0.08) * long, rng.normal(0, 0.08) * long
    t = math.radians(box.angle)
    return OrientedBox(
        box.cx + du * math.cos(t) - dv * math.sin(t),
        box.cy + du * math.sin(t) + dv * math.cos(t),
        box.w * rng.uniform(0.85, 1.15),
        box.h * rng.uniform(0.85, 1.15),
        box.angle + rng.normal(0, 4),
    )


def moved(b: OrientedBox, shift: float = 0.06) -> list[OrientedBox]:
    """`b` and the 4 boxes the box search tries (segment_image.ts movedBoxes)."""
    d = shift * max(b.w, b.h)
    c, s = math.cos(math.radians(b.angle)), math.sin(math.radians(b.angle))
    moves = ((d, 0), (-d, 0), (0, d), (0, -d))
    return [b] + [OrientedBox(b.cx + u * c - v * s, b.cy + u * s + v * c, b.w, b.h, b.angle) for u, v in moves]


def gen(split: str, n: int, seed: int, out_path: str, bases: list[str]) -> None:
    from sopseg.data import (
        CocoInstances,
        class_onehot,
        gt_mask,
        mixture_obox,
        normalised_tensor,
        prompt_for,
        sample_crop,
    )
    from sopseg.evaluate import dil_for, iou_biou, paste_back
    from sopseg.modeling import build_from_state
    from sopseg.modeling.box_prior import box_coverage

    torch.set_num_threads(1)
    ck = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)
    model = build_from_state(ck["model"], 288).eval()
    seen: dict[str, torch.Tensor] = {}
    model.refiner.iou_head[1].register_forward_pre_hook(lambda m, a: seen.__setitem__("y", a[0].detach()))
    files = ("annotations_all.json.gz",) if split == "val" else ("annotations.json.gz", "annotations_extra.json.gz")
    data = CocoInstances(os.path.join(DATA, split), preload=False, annotations=files)
    k_cls = model.mask_decoder.num_classes
    rng = np.random.default_rng(seed)
    eligible: dict[int, list[int]] = {}
    for k, inst in enumerate(data.instances):
        if max(inst.obox.w, inst.obox.h) >= 40 and prompt_for(inst.obox, input_size=288)[0].size > 96:
            eligible.setdefault(inst.category_id, []).append(k)
    cats = sorted(eligible)
    everyone = [k for v in eligible.values() for k in v]
    rec: dict[str, list] = {k: [] for k in ("y", "m4", "b4", "iou_pred", "iou0", "iou", "group", "cand", "cls", "base")}
    t0 = time.time()
    for g in range(n):
        pool = eligible[cats[rng.integers(len(cats))]] if rng.random() < 0.6 else everyone
        inst = data.instances[pool[rng.integers(len(pool))]]
        tile = data.tile(inst.image_index)
        h, w = tile.shape[:2]
        norm = normalised_tensor(tile)
        gt, dil = gt_mask(inst.polygons, w, h), dil_for(w, h)
        cls = class_onehot(torch.tensor([inst.category_id]), k_cls) if k_cls else None
        for bi, name in enumerate(bases):
            if name == "mix":
                base = inst.obox if rng.random() < 0.25 else mixture_obox(inst.obox, rng, tail=1.6, rel_prob=0.65)
            else:
                base = heavy(inst.obox, rng) if name == "heavy" else inst.obox
            if prompt_for(base, input_size=288)[0].size <= 96:
                continue
            made = [prompt_for(c, input_size=288) for c in moved(base)]
            image = torch.cat([sample_crop(norm, crop, 288) for crop, _, _ in made])
            coords = torch.from_numpy(np.stack([m[1] for m in made]).astype(np.float32))
            labels = torch.from_numpy(np.stack([m[2] for m in made]).astype(np.float32))
            with torch.no_grad():
                emb, shallow = model.image_encoder(image)
                o = model.decode(image, emb, shallow, coords, labels, None if cls is None else cls.repeat(5, 1))
            for j, (crop, _, _) in enumerate(made):
                rec["iou"].append(iou_biou(paste_back(o["p1"][j, 0:1], crop, w, h), gt, dil)[0])
                rec["iou_pred"].append(float(o["iou"][j, 0]))
                rec["iou0"].append(float(o["iou0"][j, 0]))
                rec["group"].append(g * len(bases) + bi)
                rec["cand"].append(j)
                rec["cls"].append(inst.category_id)
                rec["base"].append(bi)
            rec["y"].append(seen["y"].half().numpy())
            rec["m4"].append(F.avg_pool2d(torch.sigmoid(o["p1"][:, 0:1]), 4).half().numpy())
            rec["b4"].append(F.avg_pool2d(box_coverage(coords, labels, 288, 288), 4).half().numpy())
        if (g + 1) % 100 == 0:
            print(g + 1, f"{time.time() - t0:.0f}s", flush=True)
    stacked = ("y", "m4", "b4")
    np.savez(out_path, **{k: np.concatenate(v) if k in stacked else np.array(v) for k, v in rec.items()})


def load(paths: list[str]) -> dict[str, np.ndarray]:
    """Several cache files as one, candidates sorted by (group, candidate), groups renumbered."""
    parts: dict[str, list[np.ndarray]] = {}
    offset = 0
    for p in paths:
        d = np.load(p)
        order = np.lexsort((d["cand"], d["group"]))
        for k in d.files:
            v = d[k][order]
            parts.setdefault(k, []).append(v + offset if k == "group" else v)
        offset = int(parts["group"][-1].max()) + 1
    return {k: np.concatenate(v) for k, v in parts.items()}


def judge(d: dict[str, np.ndarray], score: np.ndarray, tag: str) -> None:
    """Per base kind: the given box's mean IoU and the pick's gain at each margin."""
    s, t, base = score.reshape(-1, 5), d["iou"].reshape(-1, 5), d["base"].reshape(-1, 5)[:, 0]
    out = []
    for b in np.unique(base):
        sb, tb = s[base == b], t[base == b]
        j = sb[:, 1:].argmax(1) + 1
        r = np.arange(len(sb))
        gains = []
        for m in MARGINS:
            pick = np.where(sb[r, j] > sb[:, 0] + m, tb[r, j], tb[:, 0])
            gains.append(f"m{m}:{(pick.mean() - tb[:, 0].mean()) * 100:+.2f}")
        out.append(f"base{b} n{len(sb)} given {tb[:, 0].mean() * 100:.2f} oracle {tb.max(1).mean() * 100:.2f} " + " ".join(gains))
    print(tag, " | ".join(out), flush=True)


def ranking_loss(score: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """MSE to the true IoU + a logistic pairwise loss inside each group of 5, weighted by the gap."""
    dt = truth[:, :, None] - truth[:, None, :]
    ds = score[:, :, None] - score[:, None, :]
    pairs = dt > 0.01
    rank = (F.softplus(-ds[pairs] * 20) * dt[pairs]).mean() if pairs.any() else score.sum() * 0
    return F.mse_loss(score, truth) + rank


class ConvHead(nn.Module):
    """The shipped head's shape; `extra` input maps (mask, coverage, product) start at zero."""

    def __init__(self, state: dict[str, torch.Tensor], extra: int, hidden: int) -> None:
        super().__init__()
        self.extra = extra
        self.conv = nn.Conv2d(8 + extra, hidden, 3, padding=1)
        self.lin = nn.Linear(hidden, 1)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.bias.zero_()
            self.lin.weight.zero_()
            self.conv.weight[:16, :8] = state["refiner.iou_head.1.weight"]
            self.conv.bias[:16] = state["refiner.iou_head.1.bias"]
            self.lin.weight[:, :16] = state["refiner.iou_head.5.weight"]
            self.lin.bias.copy_(state["refiner.iou_head.5.bias"])

    def forward(self, y: torch.Tensor, m4: torch.Tensor, b4: torch.Tensor) -> torch.Tensor:
        x = torch.cat([y, m4, b4, m4 * b4][: 1 + self.extra], 1)
        return self.lin(F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1))[:, 0]


def fit_conv(train: dict, val: dict, variant: str, lam: float, epochs: int) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    state = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)["model"]
    head = ConvHead(state, 0 if variant.startswith("A") else 3, 32 if variant.endswith("w") else 16)

    def inputs(d: dict, ix: np.ndarray | slice) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(d[k][ix]).float() for k in ("y", "m4", "b4"))

    def predict(d: dict) -> np.ndarray:
        with torch.no_grad():
            return torch.cat([head(*inputs(d, slice(i, i + 500))) for i in range(0, len(d["iou"]), 500)]).numpy()

    judge(val, val["iou_pred"], "shipped")
    judge(val, predict(val), "init")
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-4)
    groups = len(train["iou"]) // 5
    for ep in range(epochs):
        for chunk in np.array_split(np.random.default_rng(ep).permutation(groups), max(1, groups // 32)):
            ix = (chunk[:, None] * 5 + np.arange(5)).ravel()
            score = head(*inputs(train, ix)).reshape(-1, 5)
            truth = torch.from_numpy(train["iou"][ix]).float().reshape(-1, 5)
            loss = ranking_loss(score, truth) if lam > 0 else F.mse_loss(score, truth)
            opt.zero_grad()
            loss.backward()
            opt.step()
        judge(val, predict(val), f"epoch {ep}")


def scalar_features(d: dict) -> np.ndarray:
    m, b = d["m4"][:, 0].astype(np.float32), d["b4"][:, 0].astype(np.float32)
    box = b.sum((1, 2)) + 1
    ring = np.ones_like(m[0], bool)
    ring[3:-3, 3:-3] = False
    band = ((b > 0) & (b < 0.99)).astype(np.float32)
    return np.stack(
        [
            d["iou_pred"],
            d["iou0"],
            (m * b).sum((1, 2)) / box,
            (m * (1 - b)).sum((1, 2)) / box,
            m[:, ring].mean(1),
            (m * (1 - m)).sum((1, 2)) / box,
            (m * band).sum((1, 2)) / (band.sum((1, 2)) + 1),
        ],
        1,
    ).astype(np.float32)


def fit_scalar(train: dict, val: dict) -> None:
    xt, xv = scalar_features(train), scalar_features(val)
    mu, sd = xt.mean(0), xt.std(0) + 1e-6
    xt5 = torch.from_numpy((xt - mu) / sd).reshape(-1, 5, xt.shape[1])
    xv5 = torch.from_numpy((xv - mu) / sd).reshape(-1, 5, xv.shape[1])
    yt5 = torch.from_numpy(train["iou"].astype(np.float32)).reshape(-1, 5)
    judge(val, val["iou_pred"], "shipped")
    for hidden in (0, 16):
        torch.manual_seed(0)
        k = xt.shape[1]
        net = nn.Linear(k, 1) if hidden == 0 else nn.Sequential(nn.Linear(k, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        opt = torch.optim.Adam(net.parameters(), 1e-2)
        for _ in range(1500):
            loss = ranking_loss(net(xt5)[..., 0], yt5)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            judge(val, net(xv5)[..., 0].reshape(-1).numpy(), f"scalar, hidden {hidden}")


def main(argv: list[str]) -> None:
    cmd = argv[0]
    if cmd == "gen":
        gen(argv[1], int(argv[2]), int(argv[3]), argv[4], (argv[5] if len(argv) > 5 else "mix").split(","))
    elif cmd == "conv":
        fit_conv(load(argv[1].split(",")), load(argv[2].split(",")), argv[3], float(argv[4]), int(argv[5]))
    elif cmd == "halves":
        d = np.load(argv[1])
        half = (d["group"] // 2) % 2  # by instance: each has a clean and a heavy group
        for h, name in ((0, "a"), (1, "b")):
            np.savez(argv[1].replace(".npz", f"_{name}.npz"), **{k: d[k][half == h] for k in d.files})
    elif cmd == "scalar":
        fit_scalar(load(argv[1].split(",")), load(argv[2].split(",")))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
