"""Export-time rewrite that keeps graphs on onnxruntime-web's WebGPU path correct.

Measured here (onnxruntime-web 1.30, Deno's WebGPU on llvmpipe): a 3x3 `Conv` whose
input channel count is a multiple of 3 but not of 12 (6, 9, 15, 18, 21, 27, ...) gives
wrong outputs on WebGPU (max |diff| ~ the output's own magnitude), while 3, 12, 24, 36 and
every other count from 1 to 40 match WASM to 1e-6 (one Conv2d(cin, 8, 3, padding=1) graph
per cin on [2, cin, 32, 32] input). The backend self-check catches this, but then the model
never runs on WebGPU; `test/model/sopseg_model_test.ts` checks the shipped model's parity. Padding such a convolution's input with zero channels
(and its weight with zeros) up to a multiple of 4 is exact and avoids the bad kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def bad_channel_count(c: int) -> bool:
    """True for input channel counts that hit the WebGPU Conv bug."""
    return c > 3 and c % 3 == 0 and c % 12 != 0


class ChannelPaddedConv2d(nn.Module):
    """`conv` applied to its input padded with zero channels; same output, exactly."""

    def __init__(self, conv: nn.Conv2d, multiple: int = 4) -> None:
        super().__init__()
        cin = conv.in_channels
        self.extra = (-cin) % multiple
        padded = nn.Conv2d(
            cin + self.extra,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            bias=conv.bias is not None,
        )
        with torch.no_grad():
            padded.weight.zero_()
            padded.weight[:, :cin] = conv.weight
            if conv.bias is not None:
                padded.bias.copy_(conv.bias)
        self.conv = padded

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 0, 0, 0, 0, self.extra)))


def make_webgpu_safe(model: nn.Module) -> int:
    """Replace, in place, every dense Conv2d with a bad input channel count; returns how many."""
    count = 0
    for name, child in list(model.named_children()):
        if (
            isinstance(child, nn.Conv2d)
            and child.groups == 1
            and bad_channel_count(child.in_channels)
        ):
            setattr(model, name, ChannelPaddedConv2d(child))
            count += 1
        else:
            count += make_webgpu_safe(child)
    return count
