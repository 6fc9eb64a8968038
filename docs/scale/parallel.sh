#!/usr/bin/env bash
# One run split into SHARDS processes on one machine with GNU parallel, then merged.
#
#   docs/scale/parallel.sh IMAGES DETECTIONS OUT SHARDS [segment options...]
#
# Writes OUT/shard-0 .. OUT/shard-<SHARDS-1> (one output folder per shard), then OUT/merged
# (what one run over every image writes). Each shard gets nproc/SHARDS WASM threads. A shard
# that exits 1 (some images failed: a retry may help) is tried up to 3 more times, with --resume
# (it continues where it stopped); one that exits 2 (usage or configuration error, or input
# files the run left out) is not: a retry cannot help. Running the script again resumes every
# shard and does nothing for finished ones. A shard that exited 2 is merged only when this
# invocation's run of it wrote its record (newer than OUT/.parallel-started, made when the
# script starts) and the record names input files left out; one refused before it ran (a
# --resume with other settings leaves the earlier run's record as it was) stops the script.
# Needs GNU parallel (moreutils' parallel has no --joblog).
# Exit code: 0 merged; 1 a shard failed (see OUT/parallel.log and its stderr; run the script
# again); 2 usage, no GNU parallel, a shard stopped on exit 2 before it ran, or the merge's 2 (the run left input
# files out: the rest is merged, the files are named).
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
case "$(parallel --version 2>/dev/null || true)" in
  *"GNU parallel"*) ;;
  *)
    echo "$0: needs GNU parallel (https://www.gnu.org/software/parallel/): \`parallel\` is" \
      "not on PATH, or is another program (moreutils' parallel)" >&2
    exit 2
    ;;
esac
sopseg=${SOPSEG_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
threads=$(($(nproc) / shards))
if [ "$threads" -lt 1 ]; then threads=1; fi
mkdir -p "$out"
# what this invocation's shards write is newer than this
stamp="$out/.parallel-started"
touch "$stamp"
# a record written within the stamp's second is newer on file systems with 1 s times too
sleep 1
# the joblog of this invocation only: an earlier one's codes must not stand for shards not run
rm -f "$out/parallel.log"
cd "$sopseg"

# One shard: retried with --resume while it exits 1, at most 4 tries; any other code is final.
run_shard() {
  local shard=$1 count=$2 images=$3 detections=$4 out=$5 threads=$6 code=0
  shift 6
  for _ in 1 2 3 4; do
    code=0
    deno task -q segment --images "$images" --detections "$detections" \
      --out "$out/shard-$shard" --shard "$shard/$count" --threads "$threads" --resume --quiet \
      "$@" || code=$?
    if [ "$code" -ne 1 ]; then return "$code"; fi
  done
  return 1
}
export -f run_shard

PARALLEL_SHELL=bash parallel --quote --jobs "$shards" --line-buffer \
  --joblog "$out/parallel.log" \
  run_shard {} "$shards" "$images" "$detections" "$out" "$threads" "$@" \
  ::: $(seq 0 $((shards - 1))) || true
# Each shard's final exit code: the joblog's Exitval column, by its Seq column (shard + 1).
codes=()
while read -r seq exitval; do
  codes[seq - 1]=$exitval
done < <(awk -F '\t' 'NR > 1 { print $1, $7 }' "$out/parallel.log")
for ((i = 0; i < shards; i++)); do
  case "${codes[i]:-none}" in
    0 | 2) ;;
    *)
      echo "$0: some shards failed (see $out/parallel.log and their errors above); run the" \
        "script again to resume them" >&2
      exit 1
      ;;
  esac
done
shard_dirs=()
for ((i = 0; i < shards; i++)); do
  record="$out/shard-$i/sopseg-run.json"
  # exit 2 is merged only for a run of this invocation that ended and left input files out;
  # before it ran (flags, model, --out, a --resume refused for other settings) the folder
  # holds nothing of this invocation: an earlier run's record, or none
  if [ "${codes[i]}" = 2 ] && ! { [ -n "$(find "$record" -newer "$stamp" 2>/dev/null)" ] &&
    grep -qs '"state": "done"' "$record" && grep -qs '"left_out"' "$record"; }; then
    echo "$0: shard $i/$shards stopped with exit 2 before it ran (usage or configuration, or" \
      "a --resume refused: the folder holds a run made with other settings; see its error" \
      "above); nothing merged, a retry cannot help: mend it, then run the script again" >&2
    exit 2
  fi
  shard_dirs+=("$out/shard-$i")
done
deno task -q merge --out "$out/merged" "${shard_dirs[@]}"
