"""Small building blocks shared by the modules (SAM's `common.py` plus CNN helpers)."""

from __future__ import annotations

from typing import Type

import torch
from torch import nn


class MLPBlock(nn.Module):
    """SAM's transformer MLP: lin1 -> act -> lin2."""

    def __init__(self, embedding_dim: int, mlp_dim: int, act: Type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        self.lin1 = nn.Linear(embedding_dim, mlp_dim)
        self.lin2 = nn.Linear(mlp_dim, embedding_dim)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.act(self.lin1(x)))


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel dimension of a [B, C, H, W] tensor (as in SAM)."""

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MLP(nn.Module):
    """SAM's hypernetwork / IoU-head MLP (`layers.{i}` linear layers, ReLU between)."""

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        num_layers: int,
        sigmoid_output: bool = False,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        h = [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(
            nn.Linear(n, k) for n, k in zip([input_dim] + h, h + [output_dim])
        )
        self.sigmoid_output = sigmoid_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = torch.relu(layer(x)) if i < self.num_layers - 1 else layer(x)
        if self.sigmoid_output:
            x = torch.sigmoid(x)
        return x


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm2d -> ReLU (optional)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        k: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ConvTranspose2x2(nn.ConvTranspose2d):
    """ConvTranspose2d(kernel 2, stride 2) computed as a 1x1 convolution + pixel shuffle.

    Same parameters (and state-dict names, so SAM weights load) as nn.ConvTranspose2d, same
    result; much faster to train on CPU than oneDNN's transposed-convolution backward.
    (A matmul + permute version returned garbage gradients on first calls in torch 1.13.)
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        c, co = self.in_channels, self.out_channels
        # weight [c, co, 2, 2] -> [co*4, c, 1, 1], channel order (co, dy, dx) = pixel_shuffle's
        w = self.weight.permute(1, 2, 3, 0).reshape(co * 4, c, 1, 1)
        y = nn.functional.conv2d(x, w)
        return nn.functional.pixel_shuffle(y, 2) + self.bias.reshape(1, co, 1, 1)


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear 2x upsampling (align_corners=False), ONNX-friendly."""
    return nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
