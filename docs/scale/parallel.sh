#!/usr/bin/env bash
# One run split into SHARDS processes on one machine with GNU parallel, then merged.
#
#   docs/scale/parallel.sh IMAGES DETECTIONS OUT SHARDS [segment options...]
#
# Writes OUT/shard-0 .. OUT/shard-<SHARDS-1> (one output folder per shard), then OUT/merged
# (what one run over every image writes). Each shard gets nproc/SHARDS WASM threads. A shard
# that fails is tried up to 3 times, with --resume (it continues where it stopped); running the
# script again resumes every shard and does nothing for finished ones. Exit code: 0 merged,
# 1 a shard failed (see OUT/parallel.log and its stderr; run the script again), 2 usage.
# More machines: add --sshlogin to the parallel line (the inputs and OUT on a shared file
# system, sopseg checked out at the same path).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 IMAGES DETECTIONS OUT SHARDS [segment options...]" >&2
  exit 2
fi
images=$(realpath -- "$1")
detections=$(realpath -- "$2")
out=$(realpath -m -- "$3")
shards=$4
shift 4
sopseg=${SOPSEG_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
threads=$(($(nproc) / shards))
if [ "$threads" -lt 1 ]; then threads=1; fi
mkdir -p "$out"
cd "$sopseg"

if ! seq 0 $((shards - 1)) | parallel --quote --jobs "$shards" --retries 3 --line-buffer \
  --joblog "$out/parallel.log" \
  deno task -q segment --images "$images" --detections "$detections" \
  --out "$out/shard-{}" --shard "{}/$shards" --threads "$threads" --resume --quiet "$@"; then
  echo "$0: some shards failed (see $out/parallel.log); run the script again to resume them" >&2
  exit 1
fi
shard_dirs=()
for ((i = 0; i < shards; i++)); do shard_dirs+=("$out/shard-$i"); done
deno task -q merge --out "$out/merged" "${shard_dirs[@]}"
