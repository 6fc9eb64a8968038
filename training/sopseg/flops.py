"""Count multiply-adds of the model with forward hooks; print params / GFLOPs / size.

GFLOPs here = 2 x multiply-adds, per instance (batch 1) at the input size (256 unless
`--size` says otherwise: the shipped model's is in its manifest), encoder + decoder.
Counted: Conv2d, ConvTranspose2d, Linear, and the two matmuls of every attention
(q @ k^T and attn @ v, in the encoder's GlobalAttentionBlock and SAM's Attention) plus the
hypernetwork matmul of the mask decoder. Norms, activations, pooling and resizes are not.

    /usr/bin/python3 -m sopseg.flops [--size 192] [--without-r3]      (from training/)

`--without-r3`: the refinement stops at 1/2, as the shipped small graphs do
(`export.py --small-without-r3`).
"""

from __future__ import annotations

import io
from typing import Any

import torch
from torch import nn

from .modeling import DEFAULT_ENCODER_DEPTH, build_sopseg_lite
from .modeling.image_encoder import GlobalAttentionBlock
from .modeling.mask_decoder import MaskDecoder
from .modeling.sopseg import Sopseg
from .modeling.transformer import Attention


def count_macs(model: Sopseg, batch: int = 1, size: int = 256) -> dict[str, int]:
    """Multiply-adds per module group for one forward pass at batch `batch`."""
    totals: dict[str, int] = {}
    handles = []

    def add(name: str, n: int) -> None:
        group = name.split(".")[0]
        totals[group] = totals.get(group, 0) + int(n)

    def make_hook(name: str, mod: nn.Module) -> Any:
        def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: Any) -> None:
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
                add(name, out.numel() * k)
            elif isinstance(m, nn.ConvTranspose2d):
                x = inp[0]
                k = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                add(name, x.numel() * k)
            elif isinstance(m, nn.Linear):
                add(name, out.numel() * m.in_features)
                if out.dim() == 3:
                    m._last_tokens = out.shape[1]  # type: ignore[attr-defined]
            elif isinstance(m, Attention):
                # called with keyword arguments: read the key count recorded by k_proj
                b, nq, _ = out.shape
                nk = m.k_proj._last_tokens  # type: ignore[attr-defined]
                add(name, 2 * b * nq * nk * m.internal_dim)
            elif isinstance(m, GlobalAttentionBlock):
                b, c, h, w = inp[0].shape
                add(name, 2 * b * (h * w) ** 2 * c)
            elif isinstance(m, MaskDecoder):
                b = out[0].shape[0]
                add(name, b * 2 * (m.transformer_dim // 8) * out[0].shape[-1] * out[0].shape[-2])

        return hook

    for name, mod in model.named_modules():
        if isinstance(
            mod,
            (
                nn.Conv2d,
                nn.ConvTranspose2d,
                nn.Linear,
                Attention,
                GlobalAttentionBlock,
                MaskDecoder,
            ),
        ):
            handles.append(mod.register_forward_hook(make_hook(name, mod)))
    model.eval()
    with torch.no_grad():
        image = torch.zeros(batch, 3, size, size)
        coords = torch.full((batch, 5, 2), size / 2.0)
        labels = torch.tensor([[1.0, 1.0, 1.0, 2.0, 3.0]]).expand(batch, -1)
        model(image, coords, labels)
    for h in handles:
        h.remove()
    return {k: v // batch for k, v in totals.items()}


def model_size_bytes(model: nn.Module) -> int:
    """Bytes of the float32 state dict when saved with torch.save."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="multiply-adds, parameters and size of sopseg-lite")
    p.add_argument("--size", type=int, default=256, help="input size (crop side in pixels)")
    depth = DEFAULT_ENCODER_DEPTH
    p.add_argument("--attn-blocks", type=int, default=depth["attn_blocks"], help="attention blocks")
    p.add_argument("--stage3-depth", type=int, default=depth["stage3_depth"], help="stage-3 depth")
    p.add_argument("--without-r3", action="store_true", help="the refinement stops at 1/2")
    args = p.parse_args()
    size = args.size
    model = build_sopseg_lite(
        input_size=size, attn_blocks=args.attn_blocks, stage3_depth=args.stage3_depth
    )
    model.refiner.without_r3 = args.without_r3
    macs = count_macs(model, size=size)
    params = sum(p.numel() for p in model.parameters())
    total = sum(macs.values())
    for k, v in macs.items():
        print(f"{k:16s} {v / 1e6:9.1f} M MACs")
    print(f"params: {params / 1e6:.3f} M ({params * 4 / 1e6:.2f} MB float32)")
    print(f"total: {total / 1e6:.1f} M MACs = {2 * total / 1e9:.3f} GFLOPs per instance at {size}")
    print(f"state_dict on disk: {model_size_bytes(model) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
