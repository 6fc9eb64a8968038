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
