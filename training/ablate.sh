#!/bin/bash
# Fine-tuned ablations (models/sopseg-lite/README.md, "Ablations"): from the shipped checkpoint,
# 5,000 samples each on 2 CPU cores (~15 min each), with the stretch-4 box noise:
#   control        the method's prompt mix (OPM, 10 % box only, 5 % points only), RAM crops
#   box_only       every prompt box only (no oriented points)
#   fixed_context  a fixed 128-px context crop (grown to the box) instead of RAM
# Each is exported to /tmp/abl_model_<variant>; score them with deno task eval (model card).
set -eu
cd "$(dirname "$0")/.."
common=(--init-from training/checkpoints/last.pt --no-val --lr 3e-4 --warmup-samples 300
  --total-samples 5000 --max-minutes 16 --batch 16 --noise-prob 0.85 --noise-shift 0.07
  --noise-scale 0.12 --noise-angle 4)
for v in control box_only fixed_context; do
  extra=()
  [ "$v" = box_only ] && extra=(--box-only-prob 1.0)
  [ "$v" = fixed_context ] && extra=(--fixed-context 128)
  /usr/bin/python3 training/train.py "${common[@]}" "${extra[@]}" --ckpt "/tmp/abl_$v.pt" \
    --runs "training/runs/ablation_$v"
  /usr/bin/python3 training/export.py --checkpoint "/tmp/abl_$v.pt" --out "/tmp/abl_model_$v"
done
