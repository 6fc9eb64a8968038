#!/usr/bin/env bash
# One array task per shard. Submit from the sopseg checkout (on a shared file system):
#
#   sbatch docs/scale/slurm-array.sh IMAGES DETECTIONS OUT
#
# then, when every task is done, merge (or submit it with --dependency=afterok:<job id>):
#
#   deno task merge --out OUT/merged OUT/shard-*
#
# The shard count is the array's size: change --array and nothing else. Preempted or
# requeued tasks resume (--resume); exit 2 (usage or configuration) means a retry cannot help.
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
# Arrays may start at 1 (--array=1-16): the shard index counts from 0.
index=$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))
count=$SLURM_ARRAY_TASK_COUNT
cd "${SOPSEG_DIR:-$SLURM_SUBMIT_DIR}"
exec deno task -q segment --images "$images" --detections "$detections" \
  --out "$out/shard-$index" --shard "$index/$count" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --resume --quiet
