"""Store an exported model's weights as fp16 or int8 (weight-only), for the size/accuracy trade.

    /usr/bin/python3 training/quantize.py --mode fp16 --out /tmp/sopseg-lite-fp16
    /usr/bin/python3 training/quantize.py --mode int8 --out /tmp/sopseg-lite-int8

Weight-only: every float32 initializer with at least `--min-size` elements that feeds a Conv,
ConvTranspose, MatMul or Gemm is stored in the smaller type and turned back into float32 at
the head of the graph (fp16: `Cast`; int8: symmetric per-output-channel `DequantizeLinear`).
Graph inputs, outputs and names are unchanged, so the runtime loads the result as it is;
arithmetic stays float32. The manifest gets `weights` and fresh `files_sha256`.
Whether a variant is kept is decided by `deno task eval` on it (model card).

`--mode int8-kernels-probe` is a speed probe, not a model: every convolution gets
QuantizeLinear/DequantizeLinear around its activations (after its ReLU where one follows;
placeholder scale 0.05, so the outputs mean nothing) and int8 per-channel weights, the form
onnxruntime fuses into QLinearConv / QLinearAdd. It answers whether onnxruntime-web's integer
kernels are faster than its float ones on these layers, before any calibration work:

    /usr/bin/python3 training/quantize.py --mode int8-kernels-probe --out /tmp/sopseg-qdq
    deno task bench:ops --model /tmp/sopseg-qdq      # per operator, WASM vs native
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import sha256_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# For each consumer op, the weight axis that indexes output channels.
OUT_AXIS = {"Conv": 0, "ConvTranspose": 1, "MatMul": -1, "Gemm": None}


def weight_axes(graph: onnx.GraphProto) -> dict[str, int]:
    """Initializer name -> output-channel axis, for initializers used as an op's weight."""
    axes: dict[str, int] = {}
    for node in graph.node:
        if node.op_type not in OUT_AXIS or len(node.input) < 2:
            continue
        axis = OUT_AXIS[node.op_type]
        if node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            axis = 0 if trans_b else 1
        axes[node.input[1]] = axis
    return axes


def quantize_graph(model: onnx.ModelProto, mode: str, min_size: int) -> tuple[int, int]:
    """Rewrite `model` in place. Returns (tensors converted, bytes saved)."""
    graph = model.graph
    axes = weight_axes(graph)
    keep, new_inits, head = [], [], []
    converted = saved = 0
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        if init.name not in axes or w.dtype != np.float32 or w.size < min_size:
            keep.append(init)
            continue
        name = init.name
        if mode == "fp16":
            q = numpy_helper.from_array(w.astype(np.float16), name + "__fp16")
            new_inits.append(q)
            head.append(helper.make_node("Cast", [q.name], [name], to=TensorProto.FLOAT))
            saved += w.nbytes // 2
        else:
            axis = axes[name] % w.ndim
            red = tuple(i for i in range(w.ndim) if i != axis)
            amax = np.abs(w).max(axis=red)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            shape = [1] * w.ndim
            shape[axis] = -1
            q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
            qi = numpy_helper.from_array(q, name + "__q")
            si = numpy_helper.from_array(scale, name + "__scale")
            zi = numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), name + "__zero")
            new_inits += [qi, si, zi]
            head.append(
                helper.make_node(
                    "DequantizeLinear", [qi.name, si.name, zi.name], [name], axis=axis
                )
            )
            saved += w.nbytes - q.nbytes - scale.nbytes - scale.size
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(head + nodes)
    return converted, saved


def qdq_probe_graph(model: onnx.ModelProto, act_scale: float = 0.05) -> int:
    """The int8-kernels probe rewrite of `model` (in place). Returns the tensors quantized.

    Quantized tensors: each Conv's input, and its output (after the ReLU when the output's
    only consumer is one: zero point 0, so onnxruntime drops the ReLU into the int8 range).
    Every consumer of such a tensor reads its DequantizeLinear; Conv weights become int8
    per output channel, biases int32 at the product of the scales."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    # the exporter writes a repeated initializer once and the copies as Identity nodes, and
    # some weights (the refiner's split head) as Constant nodes
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            inits[node.output[0]] = node.attribute[0].t
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    zero_point: dict[str, int] = {}
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1] not in inits:
            continue
        zero_point.setdefault(node.input[0], 128)
        after = consumers.get(node.output[0], [])
        if len(after) == 1 and after[0].op_type == "Relu":
            zero_point[after[0].output[0]] = 0
        else:
            zero_point.setdefault(node.output[0], 128)
    outputs = {o.name for o in graph.output}

    def qdq(name: str) -> list[onnx.NodeProto]:
        s = numpy_helper.from_array(np.array(act_scale, np.float32), name + "__as")
        z = numpy_helper.from_array(np.array(zero_point[name], np.uint8), name + "__az")
        graph.initializer.extend([s, z])
        return [
            helper.make_node("QuantizeLinear", [name, s.name, z.name], [name + "__aq"]),
            helper.make_node("DequantizeLinear", [name + "__aq", s.name, z.name], [name + "__dq"]),
        ]

    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in zero_point:
                node.input[k] = name + "__dq"
    nodes: list[onnx.NodeProto] = []
    for gi in graph.input:
        if gi.name in zero_point:
            nodes += qdq(gi.name)
    for node in graph.node:
        if node.op_type == "Conv" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            scale = (np.abs(w).reshape(w.shape[0], -1).max(1) / 127 + 1e-12).astype(np.float32)
            q = np.clip(np.round(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
            wn = node.input[1] + "__wq"
            graph.initializer.extend([
                numpy_helper.from_array(q, wn),
                numpy_helper.from_array(scale, wn + "_s"),
                numpy_helper.from_array(np.zeros(len(scale), np.int8), wn + "_z"),
            ])
            nodes.append(helper.make_node(
                "DequantizeLinear", [wn, wn + "_s", wn + "_z"], [wn + "_dq"], axis=0))
            node.input[1] = wn + "_dq"
            if len(node.input) > 2 and node.input[2] in inits:
                b = numpy_helper.to_array(inits[node.input[2]])
                bs = (act_scale * scale).astype(np.float32)
                bn = node.input[2] + "__bq"
                graph.initializer.extend([
                    numpy_helper.from_array(np.round(b / bs).astype(np.int32), bn),
                    numpy_helper.from_array(bs, bn + "_s"),
                    numpy_helper.from_array(np.zeros(len(bs), np.int32), bn + "_z"),
                ])
                nodes.append(helper.make_node(
                    "DequantizeLinear", [bn, bn + "_s", bn + "_z"], [bn + "_dq"], axis=0))
                node.input[2] = bn + "_dq"
        nodes.append(node)
        for name in node.output:
            if name in zero_point:
                nodes += qdq(name)
                if name in outputs:  # a graph output keeps its name: the DQ writes it
                    raise ValueError(f"graph output {name} would be quantized")
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [i for i in graph.initializer if i.name in used]  # the float weights replaced
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(zero_point)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join(ROOT, "models", "sopseg-lite"))
    p.add_argument("--mode", choices=["fp16", "int8", "int8-kernels-probe"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--min-size", type=int, default=256)
    args = p.parse_args(argv)

    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    for part in ("encoder", "decoder"):
        file = manifest[part]["file"]
        model = onnx.load(os.path.join(args.model_dir, file))
        if args.mode == "int8-kernels-probe":
            n, saved = qdq_probe_graph(model), 0
        else:
            n, saved = quantize_graph(model, args.mode, args.min_size)
        onnx.checker.check_model(model)
        dst = os.path.join(args.out, file)
        onnx.save(model, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        manifest["files_sha256"][file] = sha256_file(dst)
        what = "activation tensors quantized" if args.mode == "int8-kernels-probe" else (
            f"weight tensors -> {args.mode}, {saved / 1e6:.2f} MB saved")
        print(f"{part}: {n} {what}", flush=True)
    manifest["weights"] = args.mode
    with open(os.path.join(args.out, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(args.out, "manifest.json.tmp"), os.path.join(args.out, "manifest.json"))
    card = os.path.join(args.model_dir, "README.md")
    if os.path.exists(card):
        shutil.copy(card, os.path.join(args.out, "README.md"))


if __name__ == "__main__":
    main()
