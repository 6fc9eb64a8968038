#!/usr/bin/env bash
# The evaluations a new export of models/sopseg-lite is shipped with (model card tables):
# the 15-class val, class-capped 150, clean and under each noise preset, and with --full the
# whole 15-class val, clean. Writes models/sopseg-lite/eval/val15_cap150/<TAG>_<noise>.json and
# val15_full/<TAG>_clean.{json,md}; then
#     python3 training/compare_evals.py models/sopseg-lite/eval/val15_cap150 old new s6 <TAG>
# prints the tables. A model with a class prompt is also evaluated without it (every class
# unknown to the model: `--no-class-prompt`), clean and under heavy noise, as tag <TAG>nc.
# Every run uses the graphs the model's manifest picks by default (`small_graphs.default`).
#
#     bash training/ship_evals.sh TAG [--full]
set -euo pipefail
tag=${1:?usage: ship_evals.sh TAG [--full]}
cd "$(dirname "$0")/.."
V=../shared/data/isaid512/val
E=models/sopseg-lite/eval
mkdir -p "$E/val15_cap150" "$E/val15_full"
for noise in clean default heavy tight1 loose1 corners; do
  flags=()
  [ "$noise" != clean ] && flags=(--prompt-noise "$noise")
  echo "ship_evals: $tag $noise" >&2
  deno task -q eval --gt "$V/annotations_all.json.gz" --images "$V/images" --max-per-class 150 \
    "${flags[@]}" --out-json "$E/val15_cap150/${tag}_${noise}.json" > /dev/null
done
if grep -q '"class_prompt"' models/sopseg-lite/manifest.json; then
  for noise in clean heavy; do
    flags=()
    [ "$noise" != clean ] && flags=(--prompt-noise "$noise")
    echo "ship_evals: ${tag}nc $noise (--no-class-prompt)" >&2
    deno task -q eval --gt "$V/annotations_all.json.gz" --images "$V/images" --max-per-class 150 \
      --no-class-prompt "${flags[@]}" --out-json "$E/val15_cap150/${tag}nc_${noise}.json" > /dev/null
  done
fi
# A model with small graphs: the clean subset with the other setting than its default too
# (<TAG>main: every crop on the main graphs; <TAG>small: the small graphs on), to compare.
small=$(python3 -c "import json; g = json.load(open('models/sopseg-lite/manifest.json')).get('small_graphs'); print('' if g is None else ('off main' if g.get('default') else 'on small'))")
if [ -n "$small" ]; then
  read -r setting suffix <<< "$small"
  echo "ship_evals: ${tag}${suffix} clean (--small-graphs $setting)" >&2
  deno task -q eval --gt "$V/annotations_all.json.gz" --images "$V/images" --max-per-class 150 \
    --small-graphs "$setting" --out-json "$E/val15_cap150/${tag}${suffix}_clean.json" > /dev/null
fi
if [ "${2:-}" = --full ]; then
  echo "ship_evals: $tag full val, clean" >&2
  deno task -q eval --gt "$V/annotations_all.json.gz" --images "$V/images" \
    --out-json "$E/val15_full/${tag}_clean.json" --out-md "$E/val15_full/${tag}_clean.md" > /dev/null
fi
