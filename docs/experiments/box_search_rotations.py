"""Would rotated boxes help the box search? (2026-12-05, night: hardly.)

For 250 val instances with crops over 96 px (the main graphs), the given box (clean, and under
`deno task eval`'s heavy preset) and 8 candidates: moved 0.06 of the long side along each axis
(what `--box-search` tries) and turned by +-3 and +-6 degrees. Prints, for candidate subsets, the
oracle's gain and the pick's at margins 0.03-0.08 (the best-scored candidate kept where its
predicted IoU beats the given box's by the margin), in mean instance IoU:

    python3 docs/experiments/box_search_rotations.py 250
"""
import math, os, sys, time
import numpy as np, torch
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
from sopseg.data import CocoInstances, class_onehot, gt_mask, normalised_tensor, prompt_for, sample_crop
from sopseg.evaluate import dil_for, iou_biou, paste_back
from sopseg.geometry import OrientedBox
from sopseg.modeling import build_from_state
from iou_head_refit import heavy, moved  # the heavy preset, the box search's moves
def cands(b):
    return moved(b) + [OrientedBox(b.cx, b.cy, b.w, b.h, b.angle + a) for a in (3, -3, 6, -6)]
torch.set_num_threads(1)
model = build_from_state(torch.load(os.path.join(ROOT, "training", "checkpoints", "last.pt"), map_location="cpu", weights_only=False)["model"], 288).eval()
data = CocoInstances(os.path.join(ROOT, "..", "shared", "data", "isaid512", "val"), preload=False, annotations=("annotations_all.json.gz",))
rng = np.random.default_rng(11); N = int(sys.argv[1]); rows = []; t0 = time.time()
for k in np.random.default_rng(12).permutation(len(data.instances)):
    inst = data.instances[k]
    if prompt_for(inst.obox, input_size=288)[0].size <= 96: continue
    tile = data.tile(inst.image_index); h, w = tile.shape[:2]; norm = normalised_tensor(tile)
    gt = gt_mask(inst.polygons, w, h); dil = dil_for(w, h)
    cls = class_onehot(torch.tensor([inst.category_id]), model.mask_decoder.num_classes)
    row = [inst.category_id]
    for base in (inst.obox, heavy(inst.obox, rng)):
        made = [prompt_for(c, input_size=288) for c in cands(base)]
        image = torch.cat([sample_crop(norm, cr, 288) for cr, _, _ in made])
        co = torch.from_numpy(np.stack([m[1] for m in made]).astype(np.float32)); la = torch.from_numpy(np.stack([m[2] for m in made]).astype(np.float32))
        with torch.no_grad():
            emb, sh = model.image_encoder(image); o = model.decode(image, emb, sh, co, la, cls.repeat(len(made), 1))
        row.append([(float(o["iou"][j, 0]), iou_biou(paste_back(o["p1"][j, 0:1], made[j][0], w, h), gt, dil)[0]) for j in range(len(made))])
    rows.append(row)
    if len(rows) % 25 == 0: print(len(rows), f"{time.time()-t0:.0f}s", flush=True)
    if len(rows) >= N: break
for j, name in ((1, "clean"), (2, "heavy")):
    given = np.mean([r[j][0][1] for r in rows])
    for sname, idx in (("moves", [0,1,2,3,4]), ("rot3", [0,5,6]), ("rot36", [0,5,6,7,8]), ("moves+rot3", [0,1,2,3,4,5,6]), ("all", list(range(9)))):
        res = []
        for m in (0.03, 0.05, 0.08):
            sel = []
            for r in rows:
                c = [r[j][i] for i in idx]; best = max(c[1:], key=lambda x: x[0])
                sel.append(best[1] if best[0] > c[0][0] + m else c[0][1])
            res.append(f"m{m}:{(np.mean(sel)-given)*100:+.2f}")
        oracle = np.mean([max(r[j][i][1] for i in idx) for r in rows])
        print(name, sname, f"given {given*100:.2f} oracle {(oracle-given)*100:+.2f}", " ".join(res))
