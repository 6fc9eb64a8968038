#!/usr/bin/env bash
# One array task per shard. Submit from the sopseg checkout (on a shared file system):
#
#   sbatch docs/scale/slurm-array.sh IMAGES DETECTIONS OUT
#
# then, when every task has ended, merge (or submit it with --dependency=afterany:<job id>;
# not afterok: shard 0 exits 2 when the run left input files out, and the rest is to merge):
#
#   deno task merge --out OUT/merged OUT/shard-*
#
# The merge checks each shard's record itself: a shard that did not finish is refused (exit 1).
#
# The shard count is the array's size: change --array and nothing else (a range, 0-15 or
# 1-16, stepped, 0-30:2, or throttled, 0-15%4; a list such as 1,3,7 is refused: the shard
# index is the task's place in the array, which Slurm gives only for an even step). Preempted
# or requeued tasks resume (--resume); exit 2 (usage or configuration, or input files the run
# left out) means a retry cannot help.
#SBATCH --job-name=sopseg
#SBATCH --array=0-15
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=sopseg-%A_%a.log
set -euo pipefail
images=$1
detections=$2
out=$3
# The task's place in the array, from 0: arrays may start at 1 (--array=1-16) or step
# (--array=0-30:2 runs tasks 0, 2, .. 30: shards 0..15).
count=$SLURM_ARRAY_TASK_COUNT
step=${SLURM_ARRAY_TASK_STEP:-1}
offset=$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))
index=$((offset / step))
last=$((SLURM_ARRAY_TASK_MIN + (count - 1) * step))
if [ $((offset % step)) -ne 0 ] || [ "$index" -ge "$count" ] ||
  [ "${SLURM_ARRAY_TASK_MAX:-$last}" -ne "$last" ]; then
  echo "$0: array task $SLURM_ARRAY_TASK_ID is not one of $count evenly stepped tasks" \
    "(min $SLURM_ARRAY_TASK_MIN, step $step, max ${SLURM_ARRAY_TASK_MAX:-?}): give --array a" \
    "range (0-15) or a stepped range (0-30:2), not a list" >&2
  exit 2
fi
cd "${SOPSEG_DIR:-$SLURM_SUBMIT_DIR}"
exec deno task -q segment --images "$images" --detections "$detections" \
  --out "$out/shard-$index" --shard "$index/$count" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --resume --quiet
