import json
import os

import onnx
import torch

import export as export_mod
from sopseg.modeling import build_sopseg_lite

CONTRACT_NAMES = {
    "encoder": (["image"], ["image_embeddings", "shallow_features"]),
    "decoder": (
        [
            "image",
            "image_embeddings",
            "shallow_features",
            "point_coords",
            "point_labels",
            "class_onehot",
        ],
        ["mask_logits", "iou_predictions"],
    ),
}


def test_export_writes_graphs_matching_the_manifest(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite()
    export_mod.export(model, str(tmp_path), {"random_init": True}, verbose=False)
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["format"] == "sopseg-model" and manifest["format_version"] == 1
    assert manifest["input_size"] == 256 and manifest["num_prompt_tokens"] == 5
    assert manifest["prompt_frame"] == "model-continuous"
    assert manifest["ram"] == {"m": 32, "k0": 2, "s_max": 1024, "s_min": 8}
    assert manifest["encoder"]["outputs"]["image_embeddings"] == [-1, 128, 16, 16]
    assert manifest["encoder"]["outputs"]["shallow_features"] == [-1, 64, 16, 16]
    for part, (ins, outs) in CONTRACT_NAMES.items():
        spec = manifest[part]
        assert list(spec["inputs"]) == ins and list(spec["outputs"]) == outs
        m = onnx.load(os.path.join(tmp_path, spec["file"]))
        assert m.opset_import[0].version == 17
        g_ins, g_outs = export_mod.graph_io_shapes(m)
        assert list(g_ins) == ins and list(g_outs) == outs
        assert g_ins == spec["inputs"] and g_outs == spec["outputs"]
        for v in list(m.graph.input) + list(m.graph.output):
            assert v.type.tensor_type.shape.dim[0].dim_param == "B"
    files = ("encoder.onnx", "decoder.onnx")
    total = sum(os.path.getsize(os.path.join(tmp_path, f)) for f in files)
    assert total < 30e6


def test_export_at_another_input_size_declares_it(tmp_path) -> None:
    """The crop side is a build parameter: a 192 model exports 192 graphs and says so, and
    the same weights give the 256 model (nothing in them depends on the size)."""
    torch.manual_seed(0)
    model = build_sopseg_lite(input_size=192)
    export_mod.export(model, str(tmp_path), {"random_init": True}, verbose=False)
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["input_size"] == 192
    assert manifest["encoder"]["inputs"]["image"] == [-1, 3, 192, 192]
    assert manifest["encoder"]["outputs"]["image_embeddings"] == [-1, 128, 12, 12]
    assert manifest["decoder"]["outputs"]["mask_logits"] == [-1, 1, 192, 192]
    m = onnx.load(os.path.join(tmp_path, "decoder.onnx"))
    g_ins, g_outs = export_mod.graph_io_shapes(m)
    assert g_ins["image"] == [-1, 3, 192, 192] and g_outs["mask_logits"] == [-1, 1, 192, 192]
    big = build_sopseg_lite(input_size=256)
    big.load_state_dict(model.state_dict())
    assert big.input_size == 256


def test_export_small_default_marks_the_small_graphs_as_the_runtime_default(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite(input_size=128)
    export_mod.export(
        model,
        str(tmp_path),
        {"random_init": True},
        verbose=False,
        small_input_size=96,
        small_max_crop_side=64,
        small_default=True,
    )
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        small = json.load(f)["small_graphs"]
    assert small["default"] is True and small["max_crop_side"] == 64


def test_export_with_small_graphs_names_them_and_they_match_a_model_built_at_that_size(
    tmp_path,
) -> None:
    """`small_input_size` writes a second graph pair at that size in `small_graphs`; its
    decoder equals the same weights built at that size (set_input_size is a rebuild)."""
    torch.manual_seed(0)
    model = build_sopseg_lite(input_size=224)
    export_mod.export(
        model, str(tmp_path), {"random_init": True}, verbose=False, small_input_size=160
    )
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        manifest = json.load(f)
    small = manifest["small_graphs"]
    assert small["input_size"] == 160 and small["max_crop_side"] == 160
    assert "default" not in small  # opt-in unless the export says so
    assert small["encoder"]["file"] == "encoder_160.onnx"
    assert small["decoder"]["inputs"]["image"] == [-1, 3, 160, 160]
    assert small["encoder"]["outputs"]["image_embeddings"] == [-1, 128, 10, 10]
    assert manifest["decoder"]["inputs"]["image"] == [-1, 3, 224, 224]
    assert set(manifest["files_sha256"]) == {
        "encoder.onnx", "decoder.onnx", "encoder_160.onnx", "decoder_160.onnx"
    }
    g_ins, g_outs = export_mod.graph_io_shapes(onnx.load(os.path.join(tmp_path, "decoder_160.onnx")))
    assert g_ins == small["decoder"]["inputs"] and g_outs == small["decoder"]["outputs"]

    built = build_sopseg_lite(input_size=160).eval()
    built.load_state_dict(model.state_dict())
    switched = build_sopseg_lite(input_size=224).eval()
    switched.load_state_dict(model.state_dict())
    switched.set_input_size(160)
    x = export_mod.example_inputs(built, 2)
    with torch.no_grad():
        a = built(x["image"], x["point_coords"], x["point_labels"], x.get("class_onehot"))
        b = switched(x["image"], x["point_coords"], x["point_labels"], x.get("class_onehot"))
    assert torch.equal(a["p1"], b["p1"]) and torch.equal(a["iou"], b["iou"])


def test_export_writes_the_training_ram_context_into_the_manifest(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite(input_size=128)
    for context, out in ((1.3, "a"), (1.0, "b")):
        training = {"random_init": True, "run": {"ram_context": context}}
        export_mod.export(model, str(tmp_path / out), training, verbose=False)
        with open(tmp_path / out / "manifest.json") as f:
            ram = json.load(f)["ram"]
        assert ram.get("context") == (1.3 if context != 1.0 else None)
        assert ram["m"] == 32 and ram["k0"] == 2


def test_export_small_without_r3_drops_r3_from_the_small_graphs_only(tmp_path) -> None:
    """`small_without_r3`: the small decoder has no R3 node and says so in the manifest; the
    main decoder keeps R3; the small graphs' PyTorch outputs are P2's mask upsampled 2x and
    stage 1's IoU."""
    torch.manual_seed(0)
    model = build_sopseg_lite(input_size=128)
    export_mod.export(
        model,
        str(tmp_path),
        {"random_init": True},
        verbose=False,
        small_input_size=96,
        small_without_r3=True,
    )
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["small_graphs"]["without_r3"] is True and "without_r3" not in manifest

    def r3_nodes(name: str) -> int:
        graph = onnx.load(os.path.join(tmp_path, name)).graph
        return sum("/refiner/r3/" in n.name for n in graph.node)

    assert r3_nodes("decoder.onnx") > 0 and r3_nodes("decoder_96.onnx") == 0
    small = build_sopseg_lite(input_size=96).eval()
    small.load_state_dict(model.state_dict())
    x = export_mod.example_inputs(small, 2)
    args = (x["image"], x["point_coords"], x["point_labels"], x.get("class_onehot"))
    with torch.no_grad():
        full = small(*args)
        small.refiner.without_r3 = True
        cut = small(*args)
    from sopseg.modeling.common import upsample2x

    assert torch.equal(cut["p2"], full["p2"]) and torch.equal(cut["p1"], upsample2x(full["p2"]))
    assert torch.equal(cut["iou"], full["iou0"]) and not torch.equal(full["iou"], full["iou0"])
