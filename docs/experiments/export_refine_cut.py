"""Experiment (2026-12-05): export the model with its refinement cut short, to measure what each
stage gives. SKIP_SMALL / SKIP_MAIN = none | r3 | r23 for the small / main graphs (r3: mask = P2
upsampled 2x; r23: mask = P4 upsampled 4x; predicted IoU a placeholder, sigmoid mean). The shipped
form of SKIP_SMALL=r3 is `training/export.py --small-without-r3`. Run from the repository root:

    SKIP_SMALL=r23 /usr/bin/python3 docs/experiments/export_refine_cut.py --out /tmp/m \
        --input-size 288 --small-input-size 176 --small-max-crop-side 96 --small-default
    deno run -A --no-lock training/optimize_graphs.ts /tmp/m
"""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
import torch, torch.nn.functional as F
from sopseg.modeling import refinement as R
from sopseg.modeling.common import upsample2x
import export as E

orig = R.ProgressiveRefiner.forward
def fwd(self, image, shallow, decoder_feat, p0, cov1=None, full_res=False):
    skip = getattr(self, "_skip", "none")
    if skip == "none":
        return orig(self, image, shallow, decoder_feat, p0, cov1, full_res)
    f8s = F.relu(upsample2x(self.shallow_to8(shallow)))
    f8d = F.relu(upsample2x(self.decoder_to8(decoder_feat)))
    i2 = F.avg_pool2d(image, 2); i4 = F.avg_pool2d(i2, 2); i8 = F.avg_pool2d(i4, 2)
    b1 = cov1; b2 = F.avg_pool2d(b1, 2); b4 = F.avg_pool2d(b2, 2); b8 = F.avg_pool2d(b4, 2)
    prior = self.prior_gain * 8.0 * (b4 - 0.5)
    p0 = p0 + torch.cat([prior, torch.zeros_like(prior)], dim=1)
    cat = lambda *xs: torch.cat(xs, dim=1)
    p8 = F.avg_pool2d(torch.sigmoid(p0), 2)
    x4 = self.r1(cat(f8s, f8d, i8, p8, b8))
    p4 = self.phi1(x4) + p0
    if skip == "r23":
        p1 = upsample2x(upsample2x(p4[:, 0:1]))
        return {"p0": p0, "p4": p4, "p2": p4, "p1": p1, "iou": torch.sigmoid(p4[:, 0:1]).mean(dim=(2, 3))}
    x2 = self.r2(cat(x4, i4, torch.sigmoid(p4), b4))
    p2 = self.phi2(x2) + upsample2x(p4)
    p1 = upsample2x(p2[:, 0:1])
    iou = torch.sigmoid(p2[:, 0:1]).mean(dim=(2, 3))
    return {"p0": p0, "p4": p4, "p2": p2, "p1": p1, "iou": iou}
R.ProgressiveRefiner.forward = fwd

orig_export_graphs = E.export_graphs
def eg(model, out_dir, specs):
    small = specs["encoder"]["file"] != "encoder.onnx"
    model.refiner._skip = os.environ.get("SKIP_SMALL" if small else "SKIP_MAIN", "none")
    return orig_export_graphs(model, out_dir, specs)
E.export_graphs = eg
E.main()
