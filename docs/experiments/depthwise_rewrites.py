"""Single-layer ONNX models of a depthwise 3x3 convolution (+ ReLU) and two exact rewrites of it,
for timing in onnxruntime-web's WASM backend (`docs/experiments/depthwise_bench.ts`).

    /usr/bin/python3 docs/experiments/depthwise_rewrites.py /tmp/dw

Shapes are the small encoder's (192 x 192 input): 72 channels at 48 x 48 (stride 1 and 2),
144 at 24 x 24, 288 at 12 x 12. Variants, all the same function:
  A   the Conv as exported (group = channels);
  G2, G4, G8  a grouped Conv with 2, 4 or 8 channels per group, block-diagonal weights
      (2-8x the multiply-adds, fewer and larger GEMMs);
  E   Pad, then nine shifted Slices times per-channel weights, summed (stride 1 only).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh


def save(out, name, nodes, inits, c, size, stride=1):
    size_out = (size + 2 - 3) // stride + 1
    graph = h.make_graph(
        nodes, name,
        [h.make_tensor_value_info("x", T.FLOAT, ["B", c, size, size])],
        [h.make_tensor_value_info("y", T.FLOAT, ["B", c, size_out, size_out])],
        inits,
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, f"{out}/{name}.onnx")


def conv(w, b, group, stride):
    return [
        h.make_node("Conv", ["x", "w", "b"], ["c"], group=group, kernel_shape=[3, 3],
                    pads=[1, 1, 1, 1], strides=[stride, stride]),
        h.make_node("Relu", ["c"], ["y"]),
    ], [nh.from_array(w, "w"), nh.from_array(b, "b")]


def main(out):
    rng = np.random.default_rng(0)
    for c, size, stride in [(72, 48, 1), (144, 24, 1), (288, 12, 1), (72, 48, 2)]:
        w = rng.standard_normal((c, 1, 3, 3)).astype(np.float32)
        b = rng.standard_normal(c).astype(np.float32)
        tag = f"{c}_{size}_{stride}"
        save(out, f"A_{tag}", *conv(w, b, c, stride), c, size, stride)
        for per in (2, 4, 8):
            wb = np.zeros((c, per, 3, 3), np.float32)
            for k in range(c):
                wb[k, k % per] = w[k, 0]
            save(out, f"G{per}_{tag}", *conv(wb, b, c // per, stride), c, size, stride)
        if stride != 1:
            continue
        nodes = [h.make_node("Pad", ["x", "pads"], ["xp"])]
        inits = [nh.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
                 nh.from_array(np.array([2, 3], np.int64), "axes"),
                 nh.from_array(b.reshape(c, 1, 1).copy(), "bias")]
        terms = []
        for k in range(9):
            dy, dx = divmod(k, 3)
            inits += [nh.from_array(np.array([dy, dx], np.int64), f"start{k}"),
                      nh.from_array(np.array([dy + size, dx + size], np.int64), f"end{k}"),
                      nh.from_array(w[:, 0, dy, dx].reshape(c, 1, 1).copy(), f"w{k}")]
            nodes += [h.make_node("Slice", ["xp", f"start{k}", f"end{k}", "axes"], [f"s{k}"]),
                      h.make_node("Mul", [f"s{k}", f"w{k}"], [f"m{k}"])]
            terms.append(f"m{k}")
        nodes += [h.make_node("Sum", terms + ["bias"], ["c"]), h.make_node("Relu", ["c"], ["y"])]
        save(out, f"E_{tag}", nodes, inits, c, size)


if __name__ == "__main__":
    main(sys.argv[1])
