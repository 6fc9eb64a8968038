#!/bin/bash
# WebGPU on a hardware GPU against WASM and native onnxruntime (CPU; CUDA where the build has it),
# same graphs, same batch sizes, on a lent GPU machine (the tool library's `device`; issue 13).
#
# That machine has no Deno, no network and takes at most 64 MiB with the working tree, so Deno,
# a pruned DENO_DIR and the DOTA samples travel in the git-ignored `.devweb/`, Vulkan's loader in
# `.gl/` (the device README's recipe). Here, before the call:
#
#   echo /.devweb/ >> .git/info/exclude
#   mkdir -p .devweb/dota && xz -T2 -6 -c "$(readlink -f "$(which deno)")" > .devweb/deno.xz
#   DENO_DIR=/tmp/dd deno cache --no-lock bench/bench_run.ts cli.ts
#   rm -rf /tmp/dd/npm/registry.npmjs.org/onnxruntime-node      # native: Python's onnxruntime
#   (cd /tmp/dd/npm/registry.npmjs.org/onnxruntime-web/*/ && rm -rf docs lib && \
#     rm -f dist/*.map dist/*webgl* dist/*jspi* dist/*asyncify* dist/ort.all*)
#   tar -cf - -C /tmp dd | xz -T2 -6 > .devweb/dd.tar.xz
#   cp -r ../shared/data/dota-samples/{images,labelTxt} .devweb/dota/
#
# and leave training/checkpoints/last.pt, the golden fixtures and models/*/eval out of the
# working tree for the call (restore them with git checkout), carry [".devweb", ".gl"], run
# `bash bench/device_gpu.sh`. Every result line is JSON; BENCHMARKS.md records them.
set -u
exec > >(tee "${OUT:-/tmp}/device_gpu.log") 2>&1
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/bin
xz -dc .devweb/deno.xz > /tmp/bin/deno && chmod +x /tmp/bin/deno
tar -xJf .devweb/dd.tar.xz -C /tmp
export PATH=/tmp/bin:$PATH DENO_DIR=/tmp/dd DENO_NO_UPDATE_CHECK=1 PYTHONUNBUFFERED=1
if [ -d /usr/local/nvidia/share/vulkan/icd.d ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
grep -m1 "model name" /proc/cpuinfo
nproc
deno --version | head -1
ldconfig -p | grep -c libvulkan
D=.devweb/dota
R="deno run -A --cached-only --no-lock"
echo "== webgpu probe"
timeout 60 deno eval --cached-only --no-lock 'import { probeWebGpu } from "./src/model/ort_adapter.ts";
console.log(JSON.stringify(await probeWebGpu()));'
bench() {  # one bench_run row, bounded
  echo "== bench_run $*"
  timeout 90 $R bench/bench_run.ts --images "$D/images" --detections "$D/labelTxt" "$@" 2>&1 | tail -3
}
bench --backend webgpu --threads 2 --batch 8
bench --backend webgpu --threads 2 --batch 32
bench --backend wasm --threads 2 --batch 8
bench --backend wasm --threads 16 --batch 8
echo "== segment --backend auto (its WebGPU self-check against WASM)"
timeout 60 $R cli.ts segment --images "$D/images" --detections "$D/labelTxt" \
  --out /tmp/seg_auto 2>&1 | tail -10
echo "== native onnxruntime (Python), same graphs"
timeout 60 python3 bench/native_ort.py models/sopseg-lite --batch 8 --instances 600 --threads 16
timeout 40 python3 bench/native_ort.py models/sopseg-lite --batch 8 --instances 600 --threads 2
echo "== WebGPU host time per API call, cold and warm runs, batches 8, 32, 128 (bench/webgpu_placement.ts)"
timeout 120 $R bench/webgpu_placement.ts --onnx models/sopseg-lite/encoder_176.onnx \
  --onnx models/sopseg-lite/decoder_176.onnx --api 8,32,128 --runs 3 2>&1 | tail -40
echo "== done"
