"""Train sopseg-lite on iSAID tiles (CPU-friendly, time-limited, resumable).

    /usr/bin/python3 training/train.py --max-minutes 150
    /usr/bin/python3 training/train.py --resume --total-samples 120000 --max-minutes 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sopseg.data import (  # noqa: E402
    CocoInstances,
    InstanceSampler,
    SamplerConfig,
    add_targets,
    class_onehot,
)
from sopseg.evaluate import evaluate, floor_rows, subset_indices, summarise  # noqa: E402
from sopseg.loss import sopseg_loss  # noqa: E402
from sopseg.geometry import INPUT_SIZE  # noqa: E402
from sopseg.modeling import (  # noqa: E402
    DEFAULT_ENCODER_DEPTH,
    NUM_CLASS_PROMPTS,
    build_sopseg_lite,
    checkpoint_input_size,
    state_arch,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "isaid512"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train-root", default=os.path.join(DATA, "train"))
    p.add_argument("--val-root", default=os.path.join(DATA, "val"))
    p.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "last.pt"))
    p.add_argument("--runs", default=os.path.join(HERE, "runs"))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-samples", type=int, default=2000)
    p.add_argument(
        "--total-samples",
        type=int,
        default=45000,
        help="cosine schedule length, where the run stops (not with --time-schedule)",
    )
    p.add_argument("--min-lr-ratio", type=float, default=0.02)
    p.add_argument("--max-minutes", type=float, default=150.0)
    p.add_argument("--ckpt-every-min", type=float, default=10.0)
    p.add_argument("--val-every-min", type=float, default=30.0)
    p.add_argument("--val-per-class", type=int, default=150)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--init-from",
        default="",
        help="start a new run (fresh optimizer and schedule) from the weights of this checkpoint;\n"
        "tensors that grew new input channels keep the old ones, the new ones start at 0",
    )
    p.add_argument("--noise-prob", type=float, default=0.5, help="share of samples with box noise")
    p.add_argument("--noise-shift", type=float, default=0.05, help="centre shift sigma (x side)")
    p.add_argument("--noise-scale", type=float, default=0.1, help="side scale half-width")
    p.add_argument("--noise-angle", type=float, default=3.0, help="rotation sigma, degrees")
    p.add_argument(
        "--annotations",
        default="annotations.json.gz",
        help="comma-separated COCO files under --train-root whose union is the training set\n"
        "(15 iSAID classes: annotations.json.gz,annotations_extra.json.gz)",
    )
    p.add_argument(
        "--val-annotations",
        default="annotations.json.gz",
        help="COCO file under --val-root (15 classes: annotations_all.json.gz)",
    )
    p.add_argument(
        "--noise-mixture",
        action="store_true",
        help="the broad box-error mixture (data.mixture_obox) instead of --noise-*",
    )
    p.add_argument(
        "--mixture-tail",
        type=float,
        default=1.0,
        help="multiplies the mixture's relative error scales (1.4: heavier than the heavy preset)",
    )
    p.add_argument(
        "--mixture-rel-prob",
        type=float,
        default=0.6,
        help="probability that the mixture draws a relative (shift, scale, angle) error",
    )
    p.add_argument(
        "--degrade", action="store_true", help="sensor/processing augmentation (data.degrade)"
    )
    p.add_argument(
        "--degrade-prob",
        type=float,
        default=1.0,
        help="with --degrade: share of samples it touches (1: all)",
    )
    p.add_argument(
        "--clean-prob",
        type=float,
        default=0.0,
        help="share of training boxes left as labelled, before any box error (0: none extra)",
    )
    p.add_argument(
        "--class-uniform-weight",
        type=float,
        default=0.5,
        help="class sampling: this share uniform over classes, the rest sqrt-frequency",
    )
    p.add_argument("--box-only-prob", type=float, default=0.1, help="share of box-only prompts")
    p.add_argument(
        "--input-size",
        type=int,
        default=0,
        help="the model's crop side in pixels, a multiple of 16 (0: the checkpoint's, from\n"
        "--resume or --init-from, else 256); the weights do not depend on it",
    )
    p.add_argument(
        "--small-input-size",
        type=int,
        default=0,
        help="a second, smaller crop side the model is also trained at (0: none), for the\n"
        "objects whose RAM crop is at most that many pixels (the runtime's small graphs)",
    )
    p.add_argument(
        "--small-prob",
        type=float,
        default=0.5,
        help="share of batches made at --small-input-size (from those objects only)",
    )
    p.add_argument(
        "--small-max-crop-side",
        type=int,
        default=0,
        help="the small batches' objects: RAM crop side at most this many pixels (0: the\n"
        "--small-input-size; the runtime routes crops up to `small_graphs.max_crop_side`)",
    )
    p.add_argument(
        "--main-min-crop-side",
        type=int,
        default=0,
        help="the main (--input-size) batches' objects: RAM crop side over this many pixels\n"
        "(0: all); for main graphs that the runtime sends only the crops over\n"
        "`small_graphs.max_crop_side` (the small graphs take the rest)",
    )
    p.add_argument(
        "--attn-blocks",
        type=int,
        default=0,
        help="the encoder's global attention blocks (0: the checkpoint's, else 1); more than\n"
        "the --init-from checkpoint has: the new ones start as the identity",
    )
    p.add_argument(
        "--stage3-depth",
        type=int,
        default=0,
        help="inverted-residual blocks after stage 3's downsampling (0: the checkpoint's, else\n"
        "3); new ones start as the identity",
    )
    p.add_argument(
        "--class-lr-mult",
        type=float,
        default=10.0,
        help="learning rate multiplier of the class prompt's embedding",
    )
    p.add_argument(
        "--class-drop",
        type=float,
        default=0.2,
        help="share of samples whose class prompt is 'unknown' (models with a class prompt)",
    )
    p.add_argument(
        "--fixed-context", type=float, default=0.0, help="ablation: fixed crop side instead of RAM"
    )
    p.add_argument(
        "--ram-context",
        type=float,
        default=1.0,
        help="RAM crop side at least this many times the object (1: METHOD.md's law; 1.3 gives\n"
        "large objects room for a shifted box); exported as the manifest's `ram.context`",
    )
    p.add_argument(
        "--without-r3",
        action="store_true",
        help="train the refinement as the small graphs run it (`export.py --small-without-r3`):\n"
        "the full-resolution mask is P2 upsampled 2x, R3 and its IoU head get no gradient",
    )
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument(
        "--workers", type=int, default=0, help="batch-making worker processes (0: in the loop)"
    )
    p.add_argument("--no-val", action="store_true", help="no validation (val split not read)")
    p.add_argument(
        "--time-schedule",
        action="store_true",
        help="after warmup, run the cosine over --max-minutes of wall time, not --total-samples",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights with this decay per step\n"
        "(e.g. 0.999; 0: none), saved as the checkpoint's `ema`; `ema.py` makes it the model",
    )
    p.add_argument("--weights-out", default="", help="also write the final weights as .npz here")
    p.add_argument("--no-preload", action="store_true", help="decode tiles lazily (tests)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: no cap)")
    return p.parse_args(argv)


class Logger:
    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "a", buffering=1)

    def __call__(self, msg: str) -> None:
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        self.f.write(line + "\n")


def lr_at(seen: int, base: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warmup, then cosine decay to base * min_ratio at `total` samples."""
    if seen < warmup:
        return base * max(seen, 1) / warmup
    t = min(1.0, (seen - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * t)))


def lr_by_time(elapsed: float, warm_end: float, span: float, base: float, min_ratio: float) -> float:
    """Cosine decay from base (at warm_end seconds) to base * min_ratio at span seconds."""
    t = min(1.0, max(0.0, (elapsed - warm_end) / max(1.0, span - warm_end)))
    return base * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * t)))


def schedule_record(args: argparse.Namespace) -> dict:
    """The learning-rate schedule as the checkpoint (and the exported manifest) records it."""
    rec = {
        "kind": "warmup-cosine-by-time" if args.time_schedule else "warmup-cosine-by-samples",
        "base_lr": args.lr,
        "warmup_samples": args.warmup_samples,
        "min_lr_ratio": args.min_lr_ratio,
    }
    if args.time_schedule:
        rec["minutes"] = args.max_minutes
    else:
        rec["total_samples"] = args.total_samples
    return rec


def run_record(args: argparse.Namespace) -> dict:
    """What the run trained on and how: data folder, device, batch, prompt noise, start."""
    return {
        "train_root": os.path.relpath(args.train_root, os.path.dirname(HERE)),
        "device": args.device,
        "batch": args.batch,
        "noise": {
            "prob": args.noise_prob,
            "shift": args.noise_shift,
            "scale": args.noise_scale,
            "angle": args.noise_angle,
        },
        "annotations": args.annotations.split(","),
        "categories": getattr(args, "categories", None),
        "noise_mixture": args.noise_mixture,
        "mixture_tail": args.mixture_tail,
        "mixture_rel_prob": args.mixture_rel_prob,
        "degrade": args.degrade,
        "degrade_prob": args.degrade_prob,
        "clean_prob": args.clean_prob,
        "class_uniform_weight": args.class_uniform_weight,
        "box_only_prob": args.box_only_prob,
        "class_drop": args.class_drop,
        "class_lr_mult": args.class_lr_mult,
        "fixed_context": args.fixed_context,
        "ram_context": args.ram_context,
        "without_r3": args.without_r3,
        "input_size": args.input_size,
        "small_input_size": args.small_input_size,
        "small_prob": args.small_prob if args.small_input_size else 0.0,
        "small_max_crop_side": args.small_max_crop_side or args.small_input_size,
        "main_min_crop_side": args.main_min_crop_side,
        "init_from": args.init_from or None,
        "init_from_sha256": getattr(args, "init_from_sha256", None),
    }


class BatchStream(torch.utils.data.IterableDataset):
    """Endless training batches; each DataLoader worker draws with its own seeded sampler
    (the tiles were loaded before the workers fork, so they share them)."""

    def __init__(self, data: CocoInstances, cfg: SamplerConfig, seed: int, batch: int) -> None:
        self.data, self.cfg, self.seed, self.batch = data, cfg, seed, batch

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info is not None else 0
        torch.set_num_threads(1)
        sampler = InstanceSampler(self.data, self.cfg, seed=self.seed * 1009 + wid)
        while True:
            b = sampler.batch(batch=self.batch, targets=False)
            # the crop and its mask in half precision halve what crosses the process boundary
            # (shared memory); the prompt coordinates stay float32
            yield {k: v.half() if k in ("image", "mask") else v for k, v in b.items()}


def save_checkpoint(path: str, state: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_grown(model: torch.nn.Module, old: dict[str, torch.Tensor]) -> list[str]:
    """Copy `old` weights into `model`. A tensor whose shape differs only by extra input
    channels (dim 1, appended at the end) gets the old ones in front and zeros after.
    A checkpoint without the box prior never used SAM's mask-prompt path
    (`prompt_encoder.mask_downscaling`): those weights are untrained, so they keep their
    fresh initialisation (last conv at zero). Returns the names grown or (re)initialised."""
    new = model.state_dict()
    had_prior = "refiner.prior_gain" in old
    changed = []
    for name, t in new.items():
        o = old.get(name)
        if o is None or (not had_prior and name.startswith("prompt_encoder.mask_downscaling.")):
            changed.append(f"{name} (new)")
            continue
        if o.shape == t.shape:
            t.copy_(o)
        elif o.ndim == t.ndim >= 2 and o.shape[0] == t.shape[0] and o.shape[2:] == t.shape[2:]:
            t.zero_()
            t[:, : o.shape[1]].copy_(o)
            changed.append(f"{name} {tuple(o.shape)} -> {tuple(t.shape)}")
        else:
            raise ValueError(f"cannot grow {name}: {tuple(o.shape)} -> {tuple(t.shape)}")
    model.load_state_dict(new)
    return changed


def ema_update(ema: dict[str, torch.Tensor], model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * weights, for every floating-point tensor of the
    state dict (BatchNorm statistics included); integer tensors (step counters) are copied."""
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if torch.is_floating_point(v):
                ema[k].mul_(decay).add_(v.detach(), alpha=1.0 - decay)
            else:
                ema[k].copy_(v)


def run_validation(model, val, indices, step, seen, args, log) -> dict:
    t0 = time.time()
    rows = evaluate(model, val, indices, context=args.ram_context)
    s = summarise(rows, val.categories)
    s.update({"step": step, "samples_seen": seen, "seconds": time.time() - t0})
    per = ", ".join(f"{k} {v['iou']:.1f}/{v['biou']:.1f}" for k, v in s["per_class"].items())
    log(
        f"val step {step}: mIoU {s['mIoU']:.2f} mBIoU {s['mBIoU']:.2f} "
        f"IoU_all {s['IoU_all']:.2f} (n={s['n']}, {s['seconds']:.0f}s) | {per}"
    )
    with open(os.path.join(args.runs, f"val_{step}.json"), "w") as f:
        json.dump({"summary": s, "rows": rows}, f)
    model.train()
    return s


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.runs, exist_ok=True)
    log = Logger(os.path.join(args.runs, "train.log"))
    log(f"args: {vars(args)}")

    # The checkpoint the run resumes or starts from, read once: its weights and its input
    # size (`--input-size` overrides it; 256 without a checkpoint).
    resuming = args.resume and os.path.exists(args.ckpt)
    start_path = args.ckpt if resuming else args.init_from
    start_ck = torch.load(start_path, map_location="cpu", weights_only=False) if start_path else None
    if not args.input_size:
        args.input_size = INPUT_SIZE if start_ck is None else checkpoint_input_size(start_ck)
    log(f"input size: {args.input_size}")
    start_arch = DEFAULT_ENCODER_DEPTH if start_ck is None else state_arch(start_ck["model"])
    arch = {
        "attn_blocks": args.attn_blocks or start_arch["attn_blocks"],
        "stage3_depth": args.stage3_depth or start_arch["stage3_depth"],
    }
    if resuming and arch != start_arch:
        raise SystemExit(f"--resume keeps the checkpoint's encoder {start_arch}, not {arch}")
    log(f"encoder depth: {arch}")
    model = build_sopseg_lite(input_size=args.input_size, **arch)
    model.refiner.without_r3 = args.without_r3
    decay, no_decay, class_embed = [], [], []
    for n, p in model.named_parameters():
        if n.startswith("mask_decoder.class_embed."):
            class_embed.append(p)
        else:
            (no_decay if p.ndim <= 1 or "token" in n or "embed" in n else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if class_embed:  # new and zero-initialised in a fine-tune: a faster learning rate
        groups.append({"params": class_embed, "weight_decay": 0.0, "lr_mult": args.class_lr_mult})
    opt = torch.optim.AdamW(groups, lr=args.lr)
    step, seen, wall = 0, 0, 0.0
    rng_state = None
    if args.init_from and not resuming:
        ck = start_ck
        grown = load_grown(model, ck["model"])
        model.image_encoder.identity_init(start_arch["attn_blocks"], start_arch["stage3_depth"])
        with open(args.init_from, "rb") as f:
            args.init_from_sha256 = hashlib.sha256(f.read()).hexdigest()
        log(
            f"initialised from {args.init_from} (step {ck['step']}, samples "
            f"{ck['samples_seen']}, wall {ck['wall_time'] / 60:.1f} min); grown: {grown}"
        )
        with open(os.path.join(args.runs, "init_from.json"), "w") as f:
            json.dump(
                {
                    "init_from": args.init_from,
                    "step": ck["step"],
                    "samples_seen": ck["samples_seen"],
                    "wall_time": ck["wall_time"],
                },
                f,
            )
    if resuming:
        ck = start_ck
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, seen, wall = ck["step"], ck["samples_seen"], ck["wall_time"]
        rng_state = ck.get("sampler_rng")
        log(f"resumed from {args.ckpt}: step {step}, samples {seen}, wall {wall / 60:.1f} min")

    ema = None
    if args.ema > 0:
        # a resume continues its average; a new run starts it at the initial weights
        src = start_ck.get("ema") if resuming else None
        ema = {k: v.detach().clone() for k, v in (src or model.state_dict()).items()}
        log(f"weight average: decay {args.ema} per step ({'resumed' if src else 'new'})")

    t0 = time.time()
    train = CocoInstances(
        args.train_root,
        preload=not args.no_preload,
        annotations=tuple(args.annotations.split(",")),
    )
    n_inst, n_img = len(train.instances), len(train.images)
    args.categories = sorted(train.by_class)
    log(f"train: {n_inst} instances, {n_img} tiles ({time.time() - t0:.0f}s)")
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model.to(device)
    if ema is not None:
        ema = {k: v.to(device) for k, v in ema.items()}
    val, val_idx = None, []
    if not args.no_val:
        val = CocoInstances(
            args.val_root, preload=not args.no_preload, annotations=(args.val_annotations,)
        )
        val_idx = subset_indices(val, args.val_per_class, seed=0)
        log(f"val subset: {len(val_idx)} instances")
    if step == 0 and val is not None:
        fl = summarise(floor_rows(val, val_idx), val.categories)
        per = ", ".join(f"{k} {v['iou']:.1f}/{v['biou']:.1f}" for k, v in fl["per_class"].items())
        log(f"floor (filled GT oriented box): mIoU {fl['mIoU']:.2f} mBIoU {fl['mBIoU']:.2f} "
            f"IoU_all {fl['IoU_all']:.2f} | {per}")
        with open(os.path.join(args.runs, "val_floor.json"), "w") as f:
            json.dump({"summary": fl}, f)

    cfg = SamplerConfig(
        train=True,
        noise_prob=args.noise_prob,
        noise_shift=args.noise_shift,
        noise_scale=args.noise_scale,
        noise_angle=args.noise_angle,
        box_only_prob=args.box_only_prob,
        fixed_context=args.fixed_context,
        ram_context=args.ram_context,
        class_uniform_weight=args.class_uniform_weight,
        noise_mixture=args.noise_mixture,
        mixture_tail=args.mixture_tail,
        mixture_rel_prob=args.mixture_rel_prob,
        degrade=args.degrade,
        degrade_prob=args.degrade_prob,
        clean_prob=args.clean_prob,
        input_size=args.input_size,
        small_input_size=args.small_input_size,
        small_prob=args.small_prob if args.small_input_size else 0.0,
        small_max_crop_side=args.small_max_crop_side,
        main_min_crop_side=args.main_min_crop_side,
    )
    sampler = InstanceSampler(train, cfg, seed=args.seed + step)
    stream = None
    if args.workers > 0:
        loader = torch.utils.data.DataLoader(
            BatchStream(train, cfg, args.seed + step, args.batch),
            batch_size=None,
            num_workers=args.workers,
            pin_memory=device.type == "cuda",
            prefetch_factor=2,
        )
        stream = iter(loader)
    if rng_state is not None:
        sampler.rng.bit_generator.state = rng_state

    def state() -> dict:
        extra = {} if ema is None else {"ema": {k: v.cpu().clone() for k, v in ema.items()}}
        return extra | {
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": opt.state_dict(),
            "scheduler": schedule_record(args),
            "run": run_record(args),
            "step": step,
            "samples_seen": seen,
            "wall_time": wall + (time.time() - start),
            "sampler_rng": sampler.rng.bit_generator.state,
            "model_name": "sopseg-lite",
            "input_size": args.input_size,
        }

    start = time.time()
    last_ckpt = last_val = start
    model.train()
    acc: dict[str, float] = {}
    n_acc = 0
    skipped = 0
    t_log = time.time()
    seen_log = seen
    class_rng = np.random.default_rng(args.seed * 7919 + step)
    warm_end = None  # elapsed seconds when warmup ended (time schedule)
    while True:
        elapsed = time.time() - start
        if elapsed > args.max_minutes * 60 or (args.max_steps and step >= args.max_steps):
            break
        if not args.time_schedule and seen >= args.total_samples:
            log("schedule finished (samples_seen >= total_samples)")
            break
        lr = lr_at(seen, args.lr, args.warmup_samples, args.total_samples, args.min_lr_ratio)
        if args.time_schedule and seen >= args.warmup_samples:
            warm_end = elapsed if warm_end is None else warm_end
            span = args.max_minutes * 60
            lr = lr_by_time(elapsed, warm_end, span, args.lr, args.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_mult", 1.0)
        if stream is not None:  # the targets are made here, on the training device
            batch = {k: v.to(device, non_blocking=True) for k, v in next(stream).items()}
            batch = {k: v.float() if k in ("image", "mask") else v for k, v in batch.items()}
            batch = add_targets(batch)
        else:
            batch = sampler.batch(batch=args.batch)
            batch = {k: v.to(device) for k, v in batch.items()}
        model.set_input_size(int(batch["image"].shape[-1]))  # a small-input batch or not
        cls = None
        if model.mask_decoder.class_embed is not None:
            cls = class_onehot(
                batch["category"].cpu(), NUM_CLASS_PROMPTS, args.class_drop, class_rng
            ).to(device)
        out = model(batch["image"], batch["coords"], batch["labels"], cls)
        loss, logs = sopseg_loss(out, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if not torch.isfinite(gn) or not np.isfinite(logs["loss"]):
            skipped += 1
            log(f"step {step}: non-finite loss/gradient, update skipped ({skipped} so far)")
        else:
            opt.step()
            if ema is not None:
                ema_update(ema, model, args.ema)
        step += 1
        seen += args.batch
        for k, v in logs.items():
            acc[k] = acc.get(k, 0.0) + v
        n_acc += 1
        now = time.time()
        if step % 20 == 0:
            sps = (seen - seen_log) / (now - t_log)
            msg = " ".join(f"{k} {v / n_acc:.4f}" for k, v in acc.items())
            log(
                f"step {step} seen {seen} lr {lr:.2e} gnorm {float(gn):.2f} "
                f"{sps:.2f} samples/s | {msg}"
            )
            acc, n_acc, t_log, seen_log = {}, 0, now, seen
        if now - last_ckpt > args.ckpt_every_min * 60:
            save_checkpoint(args.ckpt, state())
            last_ckpt = now
            log(f"checkpoint: {args.ckpt} (step {step})")
        if val is not None and now - last_val > args.val_every_min * 60:
            model.set_input_size(args.input_size)
            run_validation(model, val, val_idx, step, seen, args, log)
            last_val = time.time()
    model.set_input_size(args.input_size)
    save_checkpoint(args.ckpt, state())
    log(f"checkpoint: {args.ckpt} (step {step}, samples {seen})")
    if args.weights_out:
        weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        np.savez(args.weights_out, **weights)
        log(f"weights: {args.weights_out}")
    if val is not None:
        run_validation(model, val, val_idx, step, seen, args, log)
    log("done")


if __name__ == "__main__":
    main()
