#!/bin/bash
# Two stretches of training/train.py side by side on one lent GPU (the tool library's `device`):
# the same recipe twice, the second with $EXTRA_B added, so one lease compares a change against
# its own control trained on the same data for the same minutes.
#
# Each run is training/gpu_stretch.sh with half the batch-making workers. The device machine
# takes at most 64 MiB with the working tree and returns at most 8 files of 16 MiB, so:
#
#   echo /.devdata/ >> .git/info/exclude
#   # the main part alone, model only (the bundle is 19.8 MB, its main part 5 MB)
#   /usr/bin/python3 -c "import torch; c = torch.load('training/checkpoints/last.pt'); \
#       torch.save({k: c[k] for k in ['model', 'model_name', 'input_size', 'step', \
#       'samples_seen', 'wall_time', 'run']}, '.devdata/main_init.pt')"
#   /usr/bin/python3 training/make_subset.py --out .devdata/isaid_sub --budget 44000000 \
#       --min-side 64 --rarity-power 0.5 --annotations annotations.json.gz,annotations_extra.json.gz
#
# and move the tracked files over 300 kB (graphs, goldens, checkpoints/last.pt) out of the
# working tree for the call (`git checkout` brings them back). Then, with the device tool,
# carry [".devdata"] and run e.g. (training/README.md, stretch 32)
#
#   INIT=.devdata/main_init.pt LR=3e-4 WARMUP=3000 MINUTES=6.5 EXTRA="..." \
#       EXTRA_B="--ram-context 1.3" bash training/gpu_pair.sh
#
# (DEVICE=cpu WORKERS=1 BATCH=4 MINUTES=0.3 runs the whole script here, with any `nvidia-smi` on
# the PATH, to check it before a lease.)
#
# Each run's weights (model only, no optimizer) come back as $OUT/{a,b}/main.pt with its
# train.log beside it; bundle them with the shipped small part (bundle.py --main).
set -u
ROOT=$OUT
run_one() {  # $1: a or b, $2: the flags added to $EXTRA
  mkdir -p "$ROOT/$1"
  OUT="$ROOT/$1" WORKERS="${WORKERS:-7}" EXTRA="${EXTRA:-} $2" bash training/gpu_stretch.sh \
    > "$ROOT/$1/console.log" 2>&1
  echo "run $1 exit $?"
}
run_one a "" &
run_one b "${EXTRA_B:-}" &
wait
for r in a b; do
  grep -v "samples/s" "$ROOT/$r/console.log" | tail -5
  python3 - "$ROOT/$r" <<'EOF'
import os, sys, torch
d = sys.argv[1]
ck = torch.load(os.path.join(d, "ck.pt"), map_location="cpu", weights_only=False)
keep = {k: ck[k] for k in ("model", "model_name", "input_size", "step", "samples_seen", "wall_time", "run") if k in ck}
torch.save(keep, os.path.join(d, "main.pt"))
print(d, "step", ck["step"], "samples", ck["samples_seen"])
EOF
  mv "$ROOT/$r/runs/train.log" "$ROOT/$r/train.log"
  rm -rf "$ROOT/$r/ck.pt" "$ROOT/$r/weights.npz" "$ROOT/$r/runs" "$ROOT/$r/stdout.log" "$ROOT/$r/console.log"
done
ls -la "$ROOT"/*
