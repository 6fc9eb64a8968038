#!/usr/bin/env bash
# Which input size to run a checkpoint at, chosen on the TRAIN tiles (never on val): exports the
# checkpoint at each size, evaluates each export class-capped (150 per class) on the union of the
# 15-class train annotations, writes models/sopseg-lite/eval/train15_cap150/<TAG>_<size>_clean.json
# and prints the comparison table. The weights do not depend on the size (model card, stretch 11).
#
#     bash training/input_size_sweep.sh CHECKPOINT TAG 192 224 256 288
set -euo pipefail
ckpt=${1:?usage: input_size_sweep.sh CHECKPOINT TAG SIZE...}
tag=${2:?usage: input_size_sweep.sh CHECKPOINT TAG SIZE...}
shift 2
cd "$(dirname "$0")/.."
T=../shared/data/isaid512/train
E=models/sopseg-lite/eval/train15_cap150
W=$(mktemp -d /tmp/sopseg_sweep.XXXXXX)
mkdir -p "$E"
# The union of the two train files (read-only data: written to the temporary folder only).
(cd training && /usr/bin/python3 -c 'import gzip, json, sys
from sopseg.data import read_coco_union
coco = read_coco_union(sys.argv[1], ("annotations.json.gz", "annotations_extra.json.gz"))
json.dump(coco, gzip.open(sys.argv[2], "wt"))' "../$T" "$W/train15.json.gz")
# The filled oriented box on the same instances (compare_evals.py's floor column).
if [ ! -f "$E/floor15cap.json" ]; then
  deno task -q eval --baseline obb-fill --gt "$W/train15.json.gz" --images "$T/images" \
    --max-per-class 150 --out-json "$E/floor15cap.json" > /dev/null
fi
tags=()
for size in "$@"; do
  /usr/bin/python3 training/export.py --checkpoint "$ckpt" --out "$W/m$size" --input-size "$size" > /dev/null
  echo "input_size_sweep: $tag at $size" >&2
  deno task -q eval --model "$W/m$size" --gt "$W/train15.json.gz" --images "$T/images" \
    --max-per-class 150 --out-json "$E/${tag}_${size}_clean.json" > /dev/null
  tags+=("${tag}_${size}")
done
/usr/bin/python3 training/compare_evals.py "$E" "${tags[@]}"
rm -rf "$W"
