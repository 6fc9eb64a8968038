#!/bin/bash
# One stretch of training/train.py on a lent GPU machine (the tool library's `device`).
#
# That machine has PyTorch but not ../shared/data, and takes at most 64 MiB with the working
# tree, so a byte-budgeted subset of the train tiles travels with it (kept out of git):
#
#   echo /.devdata/ >> .git/info/exclude
#   /usr/bin/python3 training/make_subset.py --out .devdata/isaid_sub --budget 36000000 \
#       --annotations annotations.json.gz,annotations_extra.json.gz   # the 15 classes (stretch 5 on)
#
# (for a stretch of the main graphs alone, `--min-side 64 --rarity-power 0.5` ranks tiles by their
# larger objects and keeps more of the common classes: stretch 22's subset, ranked by rarity over
# all objects, kept 7 % of the planes and planes lost 1.0 IoU; the working tree without the
# graph files, goldens and eval JSONs leaves about 33 MB for it, training/README.md stretch 22)
#
# then, with the device tool, carry [".devdata"] and run e.g.
#
#   LR=1e-3 WARMUP=6000 MINUTES=6.5 NOISE="0.7 0.06 0.12 3.5" bash training/gpu_stretch.sh
#
# or, for the lineage since stretch 5 (box-error mixture, sensor augmentation; NOISE unused):
#
#   LR=5e-4 WARMUP=3000 MINUTES=6.5 EXTRA="--noise-mixture --mixture-tail 1.4 --degrade" \
#       bash training/gpu_stretch.sh
#
# or, for the small graphs' part (crops up to 96 px at 192, as shipped since 2026-12-05; the small
# part extracted on the device machine first, since --init-from reads a checkpoint's `model`):
#
#   python3 training/bundle.py --extract small training/checkpoints/last.pt \
#       --out /tmp/small_init.pt &&
#   INIT=/tmp/small_init.pt LR=3e-4 WARMUP=3000 MINUTES=6.5 EXTRA="--input-size 288 \
#       --small-input-size 192 --small-prob 1.0 --small-max-crop-side 96 --noise-mixture \
#       --mixture-tail 1.6 --mixture-rel-prob 0.65 --degrade --class-drop 0.2 --class-lr-mult 10 \
#       --class-uniform-weight 0.7" bash training/gpu_stretch.sh
#
# then bundle its ck.pt as the small part (`bundle.py --main training/checkpoints/last.pt --small
# ck.pt --out ...`) and judge it on the full val, not the capped subset (model card, 2026-12-05).
#
# It starts from $INIT, by default training/checkpoints/last.pt (--init-from: fresh optimizer and
# schedule) and writes ck.pt, weights.npz and runs/train.log under $OUT; copy ck.pt back over
# last.pt here.
set -u
read -r NP NS NC NA <<<"${NOISE:-0.7 0.06 0.12 3.5}"
nvidia-smi -L
mount -o remount,size=32G /dev/shm 2>/dev/null  # 14 workers x 2 batches in flight
INIT=${INIT:-training/checkpoints/last.pt}
sha256sum "$INIT"
python3 -c "import torch, numpy, cv2; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cv2', cv2.__version__)"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
python3 training/train.py --device "${DEVICE:-cuda}" --workers "${WORKERS:-14}" --train-root .devdata/isaid_sub \
  --no-val --init-from "$INIT" --ckpt "$OUT/ck.pt" --runs "$OUT/runs" \
  --weights-out "$OUT/weights.npz" --batch "${BATCH:-64}" --lr "${LR:-1e-3}" \
  --warmup-samples "${WARMUP:-6000}" --time-schedule --max-minutes "${MINUTES:-6.5}" \
  --total-samples 100000000 --ckpt-every-min 1 \
  --noise-prob "$NP" --noise-shift "$NS" --noise-scale "$NC" --noise-angle "$NA" \
  ${EXTRA:-} 2>&1 | tee "$OUT/stdout.log" | grep -v "samples/s"
rc=${PIPESTATUS[0]}
grep "samples/s" "$OUT/stdout.log" | tail -2
exit "$rc"
