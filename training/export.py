"""Export sopseg-lite to ONNX (encoder.onnx, decoder.onnx) + manifest.json (docs/CONTRACT.md).

    /usr/bin/python3 training/export.py                       # from training/checkpoints/last.pt
    /usr/bin/python3 training/export.py --random              # random init (runtime wiring)
    /usr/bin/python3 training/export.py --checkpoint X.pt --out models/sopseg-lite

No onnxruntime for Python here: the graphs are checked with onnx.checker, their input/output
names and shapes against the manifest, shape inference at batch 3, and the torch trace they
come from is re-run at batch 3 against eager PyTorch (no batch size baked into the trace).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import warnings

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sopseg.classes import manifest_classes, trained_category_ids  # noqa: E402
from sopseg.data import MEAN, STD  # noqa: E402
from sopseg.geometry import INPUT_SIZE, RAM_K0, RAM_M, RAM_SMAX, RAM_SMIN  # noqa: E402
from sopseg.modeling import (  # noqa: E402
    DecoderOnnx,
    EncoderOnnx,
    Sopseg,
    build_from_state,
    build_sopseg_lite,
    checkpoint_input_size,
    state_arch,
)
from sopseg.webgpu_safe import make_webgpu_safe  # noqa: E402
from sopseg.modeling.onnx_wrappers import (  # noqa: E402
    CLASS_INPUT,
    DECODER_OUTPUTS,
    ENCODER_INPUTS,
    ENCODER_OUTPUTS,
    decoder_inputs,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OPSET = 17


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def example_inputs(model: Sopseg, batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Plausible decoder inputs (random crop, real encoder outputs, an OPM-like prompt)."""
    g = torch.Generator().manual_seed(seed)
    s = model.input_size
    image = torch.randn(batch, 3, s, s, generator=g)
    with torch.no_grad():
        emb, shallow = model.image_encoder(image)
    coords = torch.tensor(
        [[100.0, 110.0], [128.0, 128.0], [156.0, 146.0], [80.0, 90.0], [176.0, 166.0]]
    )
    coords = coords * (s / 256.0)
    coords = coords.expand(batch, -1, -1).clone() + torch.randn(batch, 5, 2, generator=g)
    labels = torch.tensor([[1.0, 1.0, 1.0, 2.0, 3.0]]).expand(batch, -1).clone()
    x = {
        "image": image,
        "image_embeddings": emb,
        "shallow_features": shallow,
        "point_coords": coords,
        "point_labels": labels,
    }
    k = model.mask_decoder.num_classes
    if k > 0:  # a different class per item, the unknown class (0) among them
        x[CLASS_INPUT] = torch.nn.functional.one_hot((torch.arange(batch) * 5 + seed) % k, k)
        x[CLASS_INPUT] = x[CLASS_INPUT].float()
    return x


def graph_specs(model: Sopseg, suffix: str = "") -> dict:
    """The manifest's `encoder` and `decoder` entries of `model` at its input size, with the
    graph files `encoder{suffix}.onnx` and `decoder{suffix}.onnx`."""
    c = model.mask_decoder.transformer_dim
    cs = model.image_encoder.shallow[0].out_channels
    s = model.input_size
    e = s // 16
    k = model.mask_decoder.num_classes
    return {
        "encoder": {
            "file": f"encoder{suffix}.onnx",
            "inputs": {"image": [-1, 3, s, s]},
            "outputs": {"image_embeddings": [-1, c, e, e], "shallow_features": [-1, cs, e, e]},
        },
        "decoder": {
            "file": f"decoder{suffix}.onnx",
            "inputs": {
                "image": [-1, 3, s, s],
                "image_embeddings": [-1, c, e, e],
                "shallow_features": [-1, cs, e, e],
                "point_coords": [-1, 5, 2],
                "point_labels": [-1, 5],
                **({CLASS_INPUT: [-1, k]} if k > 0 else {}),
            },
            "outputs": {
                "mask_logits": [-1, 1, s, s],
                "iou_predictions": [-1, 1],
            },
        },
    }


def manifest_for(model: Sopseg, training: dict | None) -> dict:
    k = model.mask_decoder.num_classes
    m = {
        "format": "sopseg-model",
        "format_version": 1,
        "name": "sopseg-lite",
        "input_size": model.input_size,
        "mean": list(MEAN),
        "std": list(STD),
        "num_prompt_tokens": 5,
        "prompt_frame": "model-continuous",
        "ram": {"m": int(RAM_M), "k0": int(RAM_K0), "s_max": int(RAM_SMAX), "s_min": int(RAM_SMIN)},
        **graph_specs(model),
    }
    context = float(((training or {}).get("run") or {}).get("ram_context") or 1.0)
    if context != 1.0:
        # the crops the main weights were trained on (a small part's crops, up to the routing
        # threshold, are under the size where the context changes anything)
        m["ram"]["context"] = context
    if k > 0:
        m["class_prompt"] = {
            "input": CLASS_INPUT,
            "size": k,
            "unknown_index": 0,
            "index": "the class's id in `classes` (iSAID category id); 0 for any other class",
        }
    if training is not None:
        m["training"] = training
        trained = [] if training.get("random_init") else trained_category_ids(training.get("run"))
        m["classes"] = manifest_classes(trained)
    return m


def graph_io_shapes(model: onnx.ModelProto) -> tuple[dict, dict]:
    """{name: [dims]} of graph inputs and outputs; a symbolic dim is -1."""

    def dims(v: onnx.ValueInfoProto) -> list[int]:
        return [
            d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim
        ]

    inits = {i.name for i in model.graph.initializer}
    ins = {v.name: dims(v) for v in model.graph.input if v.name not in inits}
    outs = {v.name: dims(v) for v in model.graph.output}
    return ins, outs


def declare_io_shapes(path: str, spec: dict) -> None:
    """Write the manifest's shapes (batch as dim_param "B") into the graph's inputs/outputs.

    torch's exporter leaves some output dims unknown (after Resize); they are fixed by
    construction, so state them in the graph for the runtime and for shape inference.
    """
    m = onnx.load(path)
    for v in list(m.graph.input) + list(m.graph.output):
        want = spec["inputs"].get(v.name) or spec["outputs"].get(v.name)
        if want is None:
            continue
        shape = v.type.tensor_type.shape
        del shape.dim[:]
        for k in want:
            d = shape.dim.add()
            if k < 0:
                d.dim_param = "B"
            else:
                d.dim_value = k
    onnx.save(m, path)


def check_graph(path: str, spec: dict, batch: int = 3) -> None:
    """onnx.checker, names/shapes vs the manifest, shape inference with batch fixed to `batch`."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ins, outs = graph_io_shapes(m)
    if ins != spec["inputs"] or outs != spec["outputs"]:
        raise ValueError(
            f"Cannot verify {path}: graph io {ins} -> {outs} != manifest "
            f"{spec['inputs']} -> {spec['outputs']}"
        )
    for v in m.graph.input:
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param != "B":
                raise ValueError(f"Cannot verify {path}: unexpected symbolic dim {d.dim_param}")
    # fix B and infer
    m2 = copy.deepcopy(m)
    for v in list(m2.graph.input) + list(m2.graph.output):
        d0 = v.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_value = batch
    inferred = onnx.shape_inference.infer_shapes(m2, check_type=True, strict_mode=True)
    onnx.checker.check_model(inferred)


def export_graphs(model: Sopseg, out_dir: str, specs: dict) -> list[str]:
    """Write `model`'s two graphs (at its input size) to the files `specs` names, check them
    against the specs and against eager PyTorch at another batch size; return their paths."""
    enc, dec = EncoderOnnx(model).eval(), DecoderOnnx(model).eval()
    x1 = example_inputs(model, 1)
    enc_path = os.path.join(out_dir, specs["encoder"]["file"])
    dec_path = os.path.join(out_dir, specs["decoder"]["file"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            enc,
            (x1["image"],),
            enc_path,
            input_names=ENCODER_INPUTS,
            output_names=ENCODER_OUTPUTS,
            dynamic_axes={n: {0: "B"} for n in ENCODER_INPUTS + ENCODER_OUTPUTS},
            opset_version=OPSET,
            do_constant_folding=True,
        )
        torch.onnx.export(
            dec,
            tuple(x1[n] for n in decoder_inputs(model)),
            dec_path,
            input_names=decoder_inputs(model),
            output_names=DECODER_OUTPUTS,
            dynamic_axes={n: {0: "B"} for n in decoder_inputs(model) + DECODER_OUTPUTS},
            opset_version=OPSET,
            do_constant_folding=True,
        )
    for path, spec in ((enc_path, specs["encoder"]), (dec_path, specs["decoder"])):
        declare_io_shapes(path, spec)
        check_graph(path, spec)
    check_trace_batch(model)
    return [enc_path, dec_path]


def export(
    model: Sopseg,
    out_dir: str,
    training: dict | None,
    verbose: bool = True,
    small_input_size: int = 0,
    small_max_crop_side: float = 0.0,
    small_default: bool = False,
    small_model: Sopseg | None = None,
    small_training: dict | None = None,
    small_without_r3: bool = False,
) -> dict:
    """Write encoder.onnx, decoder.onnx, manifest.json to out_dir; return the manifest.

    `small_input_size` (0: none): also write the same weights at that smaller crop side as
    encoder_<N>.onnx and decoder_<N>.onnx, named in the manifest's `small_graphs`: the
    runtime runs them for the objects whose crop is at most `small_max_crop_side` source
    pixels (default N: the crop is then never shrunk), which costs less than the main
    graphs (docs/CONTRACT.md); `small_default`: the runtime uses them unless told not to
    (`small_graphs.default`; otherwise they are opt-in). `small_model`: the small graphs
    take these weights instead (a fine-tune of the same lineage on the small crops only, the
    one part of the runtime that ever sees them), recorded as `small_graphs.training`.
    `small_without_r3`: the small graphs stop the refinement at 1/2 (the mask is P2 upsampled,
    the predicted IoU stage 1's; ProgressiveRefiner.without_r3), `small_graphs.without_r3`."""
    os.makedirs(out_dir, exist_ok=True)
    # A copy with the WebGPU-safe convolutions (exactly the same function; see webgpu_safe.py).
    model = copy.deepcopy(model).eval()
    make_webgpu_safe(model)
    model.refiner.freeze_for_export(mask_only=True)
    manifest = manifest_for(model, training)
    paths = export_graphs(model, out_dir, manifest)
    if small_input_size:
        if small_input_size >= model.input_size:
            raise ValueError(
                f"the small input size {small_input_size} must be under {model.input_size}"
            )
        if small_model is None:
            small = copy.deepcopy(model)
        else:
            small = copy.deepcopy(small_model).eval()
            make_webgpu_safe(small)
            small.refiner.freeze_for_export(mask_only=True)
        small.set_input_size(small_input_size)
        small.refiner.without_r3 = small_without_r3
        specs = graph_specs(small, f"_{small_input_size}")
        side = small_max_crop_side or small_input_size
        paths += export_graphs(small, out_dir, specs)
        manifest["small_graphs"] = {
            "input_size": small_input_size,
            "max_crop_side": int(side) if float(side).is_integer() else float(side),
            **specs,
        }
        if small_default:
            manifest["small_graphs"]["default"] = True
        if small_training is not None:
            manifest["small_graphs"]["training"] = small_training
        if small_without_r3:
            manifest["small_graphs"]["without_r3"] = True
    manifest["files_sha256"] = {os.path.basename(p): sha256_file(p) for p in paths}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if verbose:
        for p in paths:
            print(f"{p}: {os.path.getsize(p) / 1e6:.2f} MB", file=sys.stderr)
    return manifest


@torch.no_grad()
def check_trace_batch(model: Sopseg, batch: int = 3, tol: float = 1e-4) -> None:
    """Trace at batch 1 (as the export does), run the trace at `batch`, compare with eager."""
    dec = DecoderOnnx(model).eval()
    x1 = example_inputs(model, 1)
    xb = example_inputs(model, batch, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = decoder_inputs(model)
        traced = torch.jit.trace(dec, tuple(x1[n] for n in names), check_trace=False)
    got = traced(*(xb[n] for n in names))
    ref = dec(*(xb[n] for n in names))
    for name, a, b in zip(DECODER_OUTPUTS, got, ref):
        if a.shape != b.shape or float((a - b).abs().max()) > tol:
            raise ValueError(f"Cannot verify trace at batch {batch}: {name} differs")


def training_record(ck: dict, path: str) -> dict:
    """The manifest's record of the checkpoint (or bundle part) `ck` read from `path`."""
    rec = {
        "random_init": False,
        "encoder_depth": state_arch(ck["model"]),
        "step": ck["step"],
        "samples_seen": ck["samples_seen"],
        "wall_time_s": round(float(ck["wall_time"]), 1),
        "schedule": ck.get("scheduler"),
        "checkpoint": os.path.relpath(path, ROOT),
        "checkpoint_sha256": sha256_file(path),
        "data": "iSAID 512x512 tiles (../shared/data/isaid512/train)",
    }
    if ck.get("run"):
        rec["run"] = ck["run"]
        if "isaid512/train" not in ck["run"]["train_root"]:
            rec["data"] = (
                f"iSAID 512x512 train tiles, the subset in {ck['run']['train_root']} "
                "(training/make_subset.py)"
            )
    return rec


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--random", action="store_true", help="export a random-init model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(ROOT, "models", "sopseg-lite"))
    p.add_argument(
        "--input-size",
        type=int,
        default=0,
        help="crop side in pixels (0: the checkpoint's; 256 with --random)",
    )
    p.add_argument(
        "--small-input-size",
        type=int,
        default=0,
        help="also export the graphs at this smaller crop side for small objects (0: none;\n"
        "the checkpoint's `small_input_size` when it was trained with one)",
    )
    p.add_argument(
        "--small-max-crop-side",
        type=float,
        default=0,
        help="crops up to this side (source pixels) run on the small graphs (0: the small\n"
        "input size, so that no crop is shrunk)",
    )
    p.add_argument(
        "--small-default",
        action="store_true",
        help="the runtime runs the small graphs unless told not to (`small_graphs.default`);\n"
        "without it they are opt-in",
    )
    p.add_argument(
        "--small-without-r3",
        action="store_true",
        help="the small graphs end the refinement at 1/2: the mask is P2 upsampled 2x and the\n"
        "predicted IoU stage 1's (R3 refines detail a magnified small crop does not have)",
    )
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    ck = None if args.random else torch.load(args.checkpoint, map_location="cpu")
    size = args.input_size or (INPUT_SIZE if ck is None else checkpoint_input_size(ck))
    model = build_sopseg_lite(input_size=size)
    if args.random:
        training = {"random_init": True, "seed": args.seed, "step": 0, "samples_seen": 0}
        if model.mask_decoder.class_embed is not None:
            # trained models start it at zero; random values here make the runtime's tests
            # see a class prompt that changes the outputs
            torch.nn.init.normal_(model.mask_decoder.class_embed.weight, std=0.5)
    else:
        model = build_from_state(ck["model"], size)
        training = training_record(ck, args.checkpoint)
    small = args.small_input_size
    if not small and ck is not None and ck.get("run"):
        small = int(ck["run"].get("small_input_size") or 0)
    small_model = small_training = None
    part = None if ck is None else ck.get("small")
    if part is not None:
        # a bundle (training/bundle.py): the small graphs' own fine-tune
        small_model = build_from_state(part["model"], small or size)
        small_training = training_record(part, args.checkpoint) | {"part": "small"}
    m = export(
        model,
        args.out,
        training,
        small_input_size=small,
        small_max_crop_side=args.small_max_crop_side,
        small_default=args.small_default,
        small_model=small_model,
        small_training=small_training,
        small_without_r3=args.small_without_r3,
    )
    print(json.dumps({"out": args.out, "training": m.get("training")}, indent=1))


if __name__ == "__main__":
    main()
