"""training/quantize.py: weight-only fp16 / int8 storage keeps the graph's interface."""

import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import export as export_mod
import quantize
from sopseg.modeling import build_sopseg_lite


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("fp32"))
    torch.manual_seed(0)
    export_mod.export(build_sopseg_lite(), out, {"random_init": True}, verbose=False)
    return out


def dequantized(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Weights as the rewritten graph's head nodes rebuild them (numpy, no runtime)."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type == "Cast" and node.input[0].endswith("__fp16"):
            out[node.output[0]] = inits[node.input[0]].astype(np.float32)
        elif node.op_type == "DequantizeLinear" and node.input[0].endswith("__q"):
            q, s = inits[node.input[0]], inits[node.input[1]]
            axis = next(a.i for a in node.attribute if a.name == "axis")
            shape = [1] * q.ndim
            shape[axis] = -1
            out[node.output[0]] = q.astype(np.float32) * s.reshape(shape)
    return out


@pytest.mark.parametrize("mode,rel_tol", [("fp16", 1e-3), ("int8", 1.0 / 127)])
def test_weight_only_storage(exported: str, tmp_path, mode: str, rel_tol: float) -> None:
    quantize.main(["--model-dir", exported, "--mode", mode, "--out", str(tmp_path)])
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["weights"] == mode
    for part in ("encoder", "decoder"):
        file = manifest[part]["file"]
        src = onnx.load(os.path.join(exported, file))
        dst = onnx.load(os.path.join(tmp_path, file))
        assert export_mod.graph_io_shapes(src) == export_mod.graph_io_shapes(dst)
        assert manifest["files_sha256"][file] == export_mod.sha256_file(os.path.join(tmp_path, file))
        orig = {i.name: numpy_helper.to_array(i) for i in src.graph.initializer}
        rebuilt = dequantized(dst)
        assert len(rebuilt) > 10
        for name, w in rebuilt.items():
            ref = orig[name]
            assert w.shape == ref.shape
            # per output channel: error at most half a step of that channel's scale
            assert np.max(np.abs(w - ref)) <= rel_tol * np.max(np.abs(ref)) + 1e-7, name
        assert os.path.getsize(os.path.join(tmp_path, file)) < os.path.getsize(
            os.path.join(exported, file)
        )


def test_int8_kernels_probe_is_in_fusable_form(exported: str, tmp_path) -> None:
    """The probe's graphs keep their interface and give onnxruntime the QDQ pattern it fuses
    into QLinearConv: each Conv reads DequantizeLinear outputs for data and weight (and an
    int32 bias), and its output (or its ReLU's) goes through QuantizeLinear."""
    quantize.main(["--model-dir", exported, "--mode", "int8-kernels-probe", "--out", str(tmp_path)])
    for part in ("encoder.onnx", "decoder.onnx"):
        src = onnx.load(os.path.join(exported, part))
        dst = onnx.load(os.path.join(tmp_path, part))
        onnx.checker.check_model(dst)
        assert export_mod.graph_io_shapes(src) == export_mod.graph_io_shapes(dst)
        producer = {o: n for n in dst.graph.node for o in n.output}
        consumers: dict[str, list] = {}
        for n in dst.graph.node:
            for i in n.input:
                consumers.setdefault(i, []).append(n)
        inits = {i.name: numpy_helper.to_array(i) for i in dst.graph.initializer}
        convs = [n for n in dst.graph.node if n.op_type == "Conv"]
        assert len(convs) == sum(n.op_type == "Conv" for n in src.graph.node) > 5
        for conv in convs:
            dqs = [producer.get(i) for i in conv.input]
            assert all(d is not None and d.op_type == "DequantizeLinear" for d in dqs), conv.name
            assert inits[dqs[1].input[0]].dtype == np.int8
            if len(dqs) > 2:
                assert inits[dqs[2].input[0]].dtype == np.int32
            after = consumers[conv.output[0]]
            if len(after) == 1 and after[0].op_type == "Relu":
                after = consumers[after[0].output[0]]
            assert [n.op_type for n in after] == ["QuantizeLinear"], conv.name
        # no float weight left behind for the runtime to warn about
        used = {i for n in dst.graph.node for i in n.input}
        assert all(name in used for name in inits)
