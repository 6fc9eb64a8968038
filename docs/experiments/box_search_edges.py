"""Can the image's own edges steer the box search? (2026-12-05, night: no.)

The box search (`--box-search on`) keeps a moved box's mask where its predicted IoU beats the
given box's by 0.05. The predicted IoU is the model's view of its own crop; `iou_head_refit.py`
found no better ranker among features of that view. This probe asks whether evidence the model
does not score, the image gradient along each candidate mask's outline and the colour contrast
across it, ranks the candidates better:

    python3 docs/experiments/box_search_edges.py gen 400 /tmp/edges.npz   # ~20 min, 1 thread
    python3 docs/experiments/box_search_edges.py fit /tmp/edges.npz

`gen`: val instances with crops over 96 px (the main graphs), in a fixed random order; for each,
the clean box and the same under `deno task eval`'s heavy preset; for each of those, the given box,
its 4 moves of 0.06 x the long side (as shipped) and 4 of 0.12; for each candidate mask: predicted
IoU (both stages), true IoU, and outline features on the tile. `fit`: rules of the form "pick the
candidate with the highest predicted IoU + a x (edge score - the given box's), where that beats the
given box by margin m", a and m chosen on one half of the instances and judged on the other (both
ways), against the shipped rule (a = 0, m = 0.05).
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
sys.path.insert(0, HERE)
CHECKPOINT = os.path.join(ROOT, "training", "checkpoints", "last.pt")
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "isaid512"))


def gradient(tile: np.ndarray) -> np.ndarray:
    """Sobel magnitude of the tile's luminance after a 3x3 box blur, float32 [H, W]."""
    g = torch.from_numpy(tile.astype(np.float32)).mean(-1)[None, None]
    g = F.avg_pool2d(F.pad(g, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])[None, None]
    gp = F.pad(g, (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(gp, kx)
    gy = F.conv2d(gp, kx.transpose(2, 3))
    return torch.sqrt(gx * gx + gy * gy)[0, 0].numpy()


def dilate(m: np.ndarray, r: int = 1) -> np.ndarray:
    t = torch.from_numpy(m.astype(np.float32))[None, None]
    return (F.max_pool2d(t, 2 * r + 1, stride=1, padding=r)[0, 0] > 0).numpy()


def outline_features(mask: np.ndarray, grad: np.ndarray, tile: np.ndarray, window) -> list[float]:
    """[mean gradient on the outline (1 px inside + 1 px outside), the same over the window's
    mean gradient, colour contrast across the outline (3 px rings, in window std units)]."""
    j0, j1, i0, i1 = window
    m = mask[j0:j1, i0:i1].astype(bool)
    g = grad[j0:j1, i0:i1]
    if not m.any():
        return [0.0, 0.0, 0.0]
    inner = m & ~(~dilate(~m, 1))  # pixels of m next to a pixel outside
    outer = dilate(m, 1) & ~m
    band = inner | outer
    e = float(g[band].mean()) if band.any() else 0.0
    en = e / (float(g.mean()) + 1e-6)
    rgb = tile[j0:j1, i0:i1].astype(np.float32)
    ring_in = m & ~(~dilate(~m, 3))
    ring_out = dilate(m, 3) & ~m
    if ring_in.any() and ring_out.any():
        sd = rgb.reshape(-1, 3).std(0).mean() + 1e-6
        c = float(np.linalg.norm(rgb[ring_in].mean(0) - rgb[ring_out].mean(0)) / sd)
    else:
        c = 0.0
    return [e, en, c]


def gen(n: int, out_path: str) -> None:
    from iou_head_refit import heavy, moved
    from sopseg.data import CocoInstances, class_onehot, gt_mask, normalised_tensor, prompt_for, sample_crop
    from sopseg.evaluate import dil_for, iou_biou, paste_back
    from sopseg.modeling import build_from_state

    torch.set_num_threads(1)
    ck = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)
    model = build_from_state(ck["model"], 288).eval()
    data = CocoInstances(os.path.join(DATA, "val"), preload=False, annotations=("annotations_all.json.gz",))
    rng = np.random.default_rng(11)
    rows = []  # (instance, base, cand, cls, piou, piou0, iou, e, en, c)
    t0 = time.time()
    done = 0
    for k in np.random.default_rng(12).permutation(len(data.instances)):
        inst = data.instances[k]
        if prompt_for(inst.obox, input_size=288)[0].size <= 96:
            continue
        tile = data.tile(inst.image_index)
        h, w = tile.shape[:2]
        norm = normalised_tensor(tile)
        grad = gradient(tile)
        gt, dil = gt_mask(inst.polygons, w, h), dil_for(w, h)
        cls = class_onehot(torch.tensor([inst.category_id]), model.mask_decoder.num_classes)
        for bi, base in enumerate((inst.obox, heavy(inst.obox, rng))):
            cands = moved(base, 0.06) + moved(base, 0.12)[1:]
            made = [prompt_for(c, input_size=288) for c in cands]
            image = torch.cat([sample_crop(norm, cr, 288) for cr, _, _ in made])
            co = torch.from_numpy(np.stack([m[1] for m in made]).astype(np.float32))
            la = torch.from_numpy(np.stack([m[2] for m in made]).astype(np.float32))
            with torch.no_grad():
                emb, sh = model.image_encoder(image)
                o = model.decode(image, emb, sh, co, la, cls.repeat(len(made), 1))
            masks = [paste_back(o["p1"][j, 0:1], made[j][0], w, h) for j in range(len(made))]
            union = np.zeros((h, w), bool)
            for m in masks:
                union |= m.astype(bool)
            union = dilate(union | gt.astype(bool), 8) if union.any() else dilate(gt.astype(bool), 8)
            ys, xs = np.nonzero(union)
            window = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) if len(ys) else (0, h, 0, w)
            for j, m in enumerate(masks):
                rows.append(
                    [done, bi, j, inst.category_id, float(o["iou"][j, 0]), float(o["iou0"][j, 0]),
                     iou_biou(m, gt, dil)[0], *outline_features(m, grad, tile, window)]
                )
        done += 1
        if done % 25 == 0:
            print(done, f"{time.time() - t0:.0f}s", flush=True)
            np.save(out_path + ".partial.npy", np.array(rows))
        if done >= n:
            break
    np.savez(out_path, rows=np.array(rows))


def pick_gain(r: np.ndarray, cand: list[int], a: float, feat: int, margin: float) -> float:
    """Mean IoU gain over the given box of the rule, over the instances in r [N, 9, F]."""
    score = r[:, cand, 4] + a * (r[:, cand, feat] - r[:, :1, feat])
    best = score[:, 1:].argmax(1) + 1
    take = score[np.arange(len(r)), best] > score[:, 0] + margin
    chosen = np.where(take, r[np.arange(len(r)), [cand[b] for b in best], 6], r[:, 0, 6])
    return float((chosen - r[:, 0, 6]).mean())


def fit(path: str) -> None:
    rows = np.load(path)["rows"] if path.endswith(".npz") else np.load(path)
    n_inst = int(rows[:, 0].max()) + 1
    r = rows.reshape(n_inst, 2, 9, rows.shape[1])
    feats = {"e": 7, "en": 8, "c": 9}
    half = np.arange(n_inst) % 2 == 0
    for bi, name in ((0, "clean"), (1, "heavy")):
        x = r[:, bi]
        print(f"{name}: given {100 * x[:, 0, 6].mean():.2f}, n {len(x)}")
        for cname, cand in (("moves 0.06", [0, 1, 2, 3, 4]), ("moves 0.06+0.12", list(range(9)))):
            orc = float((x[:, cand, 6].max(1) - x[:, 0, 6]).mean())
            print(f"  {cname}: oracle {100 * orc:+.2f}, shipped rule {100 * pick_gain(x, cand, 0, 7, 0.05):+.2f}")
            for fname, f in feats.items():
                scale = float(np.std(x[:, cand, f] - x[:, :1, f])) + 1e-9
                for a in (0.01, 0.02, 0.05, 0.1, 0.2):
                    g = [100 * pick_gain(x, cand, a / scale, f, m) for m in (0.0, 0.02, 0.05)]
                    print(f"    {fname} a={a:<5} gain at margins 0/0.02/0.05: " + " ".join(f"{v:+.2f}" for v in g))
    # chosen on one half (both presets together), judged on the other
    print("cross-fit (a, margin, feature chosen on one half of the instances, judged on the other):")
    for cname, cand in (("moves 0.06", [0, 1, 2, 3, 4]), ("moves 0.06+0.12", list(range(9)))):
        for fit_half, test_half in ((half, ~half), (~half, half)):
            best = None
            for fname, f in feats.items():
                scale = float(np.std(r[fit_half][:, :, cand, f] - r[fit_half][:, :, :1, f])) + 1e-9
                for a in (0, 0.01, 0.02, 0.05, 0.1, 0.2):
                    for m in (0.0, 0.02, 0.05, 0.08):
                        s = sum(pick_gain(r[fit_half][:, bi], cand, a / scale, f, m) for bi in (0, 1))
                        if best is None or s > best[0]:
                            best = (s, fname, f, a, m, scale)
            _, fname, f, a, m, scale = best
            out = [100 * pick_gain(r[test_half][:, bi], cand, a / scale, f, m) for bi in (0, 1)]
            ship = [100 * pick_gain(r[test_half][:, bi], cand, 0, f, 0.05) for bi in (0, 1)]
            print(f"  {cname}: {fname} a={a} m={m}: clean {out[0]:+.2f} heavy {out[1]:+.2f} "
                  f"(shipped rule on that half: {ship[0]:+.2f} / {ship[1]:+.2f})")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), sys.argv[3])
    else:
        fit(sys.argv[2])
