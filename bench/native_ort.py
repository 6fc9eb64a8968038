"""Model calls alone on Python's onnxruntime, for a machine whose Deno cannot load the native build.

The lent GPU machine (the tool library's `device`) has Python's onnxruntime but no network, so
`bench_run.ts --backend native` (npm:onnxruntime-node) cannot run there. This times the same
encoder and decoder graphs of a model directory over batches of one shape, with each execution
provider asked for (CPU, and CUDA where this onnxruntime build has it), and prints one JSON line
per graph set and provider: seconds per instance for the encoder and the decoder.

    python3 bench/native_ort.py models/sopseg-lite --batch 8 --instances 600 --threads 16

Inputs are a fixed random image and prompts inside the crop (the graphs have no data-dependent
control flow, so their time does not depend on the values). Used by bench/device_gpu.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort


def graph_sets(model: str) -> list[tuple[str, dict, dict]]:
    with open(os.path.join(model, "manifest.json")) as f:
        m = json.load(f)
    sets = [(f"main {m['input_size']}", m["encoder"], m["decoder"])]
    small = m.get("small_graphs")
    if small:
        sets.append((f"small {small['input_size']}", small["encoder"], small["decoder"]))
    return sets


def feeds_for(session: ort.InferenceSession, batch: int, size: int, rng) -> dict:
    out = {}
    for i in session.get_inputs():
        shape = [batch if not isinstance(d, int) or d < 0 else d for d in i.shape]
        if i.name == "point_labels":
            out[i.name] = np.tile(np.array([1, 1, 1, 2, 3], np.float32), (batch, 1))
        elif i.name == "class_onehot":
            out[i.name] = np.eye(shape[1], dtype=np.float32)[rng.integers(0, shape[1], batch)]
        elif i.name == "point_coords":
            out[i.name] = rng.uniform(0.25 * size, 0.75 * size, shape).astype(np.float32)
        else:
            out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--instances", type=int, default=600)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    available = ort.get_available_providers()
    print(json.dumps({"onnxruntime": ort.__version__, "available_providers": available}))
    wanted = [["CPUExecutionProvider"]]
    if "CUDAExecutionProvider" in available:
        wanted.append(["CUDAExecutionProvider", "CPUExecutionProvider"])
    for name, enc_m, dec_m in graph_sets(args.model):
        size = enc_m["inputs"]["image"][-1]
        for providers in wanted:
            so = ort.SessionOptions()
            so.intra_op_num_threads = args.threads
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            try:
                enc = ort.InferenceSession(
                    os.path.join(args.model, enc_m["file"]), so, providers=providers
                )
                dec = ort.InferenceSession(
                    os.path.join(args.model, dec_m["file"]), so, providers=providers
                )
            except Exception as e:  # report and go on to the next provider
                print(json.dumps({"graphs": name, "providers": providers, "error": str(e)}))
                continue
            image = {"image": rng.standard_normal((args.batch, 3, size, size)).astype(np.float32)}
            prompt = {
                k: v
                for k, v in feeds_for(dec, args.batch, size, rng).items()
                if k not in ("image", "image_embeddings", "shallow_features")
            }

            def call() -> tuple[float, float]:
                t0 = time.perf_counter()
                e = enc.run(None, image)
                t1 = time.perf_counter()
                names = [o.name for o in enc.get_outputs()]
                dec.run(None, image | dict(zip(names, e)) | prompt)
                return t1 - t0, time.perf_counter() - t1

            for _ in range(3):  # warm-up (CUDA kernels, cuDNN algorithm search)
                call()
            enc_s = dec_s = 0.0
            done = 0
            while done < args.instances:
                a, d = call()
                enc_s, dec_s, done = enc_s + a, dec_s + d, done + args.batch
            print(
                json.dumps(
                    {
                        "graphs": name,
                        "providers": enc.get_providers(),
                        "threads": args.threads,
                        "batch": args.batch,
                        "instances": done,
                        "ms_per_instance": {
                            "encoder": 1e3 * enc_s / done,
                            "decoder": 1e3 * dec_s / done,
                            "total": 1e3 * (enc_s + dec_s) / done,
                        },
                    }
                )
            )


if __name__ == "__main__":
    main()
