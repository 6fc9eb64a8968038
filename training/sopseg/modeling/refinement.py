"""Stage 2 of SOPSeg: progressive refinement 1/8 -> 1/4 -> 1/2 -> 1 (METHOD.md section 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import ConvBNAct, upsample2x


class RefinementBlock(nn.Module):
    """Residual block ending in a 2x upsample: h = conv1(x), y = relu(h + conv2(h)), up(y)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = ConvBNAct(cin, cout, 3)
        self.conv2 = ConvBNAct(cout, cout, 3, act=False)

    def forward(self, x: torch.Tensor, upsample: bool = True) -> torch.Tensor:
        h = self.conv1(x)
        y = torch.relu(h + self.conv2(h))
        return upsample2x(y) if upsample else y


def pool4_kernel(channels: int) -> torch.Tensor:
    """The depthwise kernel of `avg_pool4_of_upsampled`: [channels, 1, 4, 4]."""
    v = torch.tensor([1.0, 7.0, 7.0, 1.0]) / 16.0
    return (v[:, None] * v[None, :]).repeat(channels, 1, 1, 1)


def avg_pool4_of_upsampled(y: torch.Tensor, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """`avg_pool2d(upsample2x(y), 4)` without the full-resolution tensor: a depthwise
    4x4 stride-2 filter, outer([1, 7, 7, 1]) / 256, on `y` padded by one edge pixel.

    Exact: bilinear 2x upsampling (half-pixel, edges clamped) gives out[4k..4k+3] =
    (.75 y2k + .25 y2k-1, .75 y2k + .25 y2k+1, .75 y2k+1 + .25 y2k, .75 y2k+1 + .25 y2k+2)
    per axis, whose mean is (y2k-1 + 7 y2k + 7 y2k+1 + y2k+2) / 16; the clamped
    neighbours at the borders are the replicated edge."""
    c = y.shape[1]
    k = pool4_kernel(c).to(y) if kernel is None else kernel
    return F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), k, stride=2, groups=c)


class ProgressiveRefiner(nn.Module):
    """X4 = R1([F8s;F8d;I8;P8]), X2 = R2([X4;I4;P4]), X1 = R3([X2;I2;P2]) + heads + IoU head.

    `P_s = [M; E]` enters the next block as sigmoid probabilities. Each head predicts a
    residual on the previous logits (bilinearly upsampled), so every scale starts from
    the stage-1 answer.

    With `box_prior`, every block also sees the prompt box's coverage at its input scale
    (modeling/box_prior.py; a channel appended after the METHOD inputs), the full-resolution
    head sees `[X1; I1; B1]`, and the stage-1 mask logits get `gain * 8 (B4 - 0.5)` added
    (gain learned, starting at 0): the filled box is where the model starts, not where it ends.

    `without_r3` (inference only; set on a copy before export): stop at 1/2 and return the
    bilinear 2x upsampling of `P2` as `p1`, with no `iou` (the caller uses stage 1's). For crops
    magnified past the source resolution (the small graphs: a crop of at most 96 px read at 176
    or more), R3 works on detail the image does not have; without it the graphs cost 0.288
    instead of 0.325 GFLOPs per instance at 176 for the same masks (model card, "This model",
    2026-12-05).
    """

    def __init__(
        self,
        embed_dim: int = 128,
        shallow_dim: int = 64,
        feat8: int = 24,
        widths: tuple[int, int, int] = (32, 16, 8),
        box_prior: bool = False,
    ) -> None:
        super().__init__()
        self.box_prior = box_prior
        nb = 1 if box_prior else 0
        self.shallow_to8 = nn.Sequential(
            nn.Conv2d(shallow_dim, feat8, 3, padding=1, bias=False), nn.BatchNorm2d(feat8)
        )
        self.decoder_to8 = nn.Sequential(
            nn.Conv2d(embed_dim, feat8, 3, padding=1, bias=False), nn.BatchNorm2d(feat8)
        )
        w4, w2, w1 = widths
        self.r1 = RefinementBlock(2 * feat8 + 3 + 2 + nb, w4)
        self.r2 = RefinementBlock(w4 + 3 + 2 + nb, w2)
        self.r3 = RefinementBlock(w2 + 3 + 2 + nb, w1)
        self.phi1 = nn.Conv2d(w4, 2, 3, padding=1)
        self.phi2 = nn.Conv2d(w2, 2, 3, padding=1)
        # full resolution: 1x1 (features are upsampled); with the prior it also sees I1, B1
        self.phi3 = nn.Conv2d(w1 + (3 + 1) * nb, 2, 1)
        if box_prior:
            self.prior_gain = nn.Parameter(torch.zeros(1))
        self.iou_head = nn.Sequential(
            nn.AvgPool2d(4),
            nn.Conv2d(w1, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(1),
            nn.Linear(16, 1),
        )
        # a fixed filter (not a parameter, not in the state dict); a buffer so that its
        # shape is known when the graph is exported
        self.register_buffer("pool4", pool4_kernel(w1), persistent=False)
        self._frozen_head: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._frozen_bias: torch.Tensor | None = None
        self._mask_only = False
        self.without_r3 = False
        for phi in (self.phi1, self.phi2, self.phi3):
            nn.init.zeros_(phi.weight)
            nn.init.zeros_(phi.bias)

    def head_parts(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """phi3's weight split by input: features Y1, image, box coverage (the last two
        empty without the prior). Frozen copies once `freeze_for_export` ran: the ONNX
        exporter needs a convolution's kernel shape, which it loses through a slice."""
        if self._frozen_head is not None:
            return self._frozen_head
        w1 = self.phi3.weight.shape[1] - (4 if self.box_prior else 0)
        w = self.phi3.weight
        return w[:, :w1], w[:, w1 : w1 + 3], w[:, w1 + 3 :]

    def freeze_for_export(self, mask_only: bool = False) -> None:
        """Fix phi3's split weights as constants (export only; training keeps the slices).
        `mask_only`: the full-resolution head computes the mask channel only (`p1` then has
        one channel; the edge map is a training target, unused at inference)."""
        k = 1 if mask_only else 2
        self._frozen_head = tuple(p.detach()[:k].clone() for p in self.head_parts())
        self._frozen_bias = self.phi3.bias.detach()[:k].clone()
        self._mask_only = mask_only

    def forward(
        self,
        image: torch.Tensor,
        shallow: torch.Tensor,
        decoder_feat: torch.Tensor,
        p0: torch.Tensor,
        cov1: torch.Tensor | None = None,
        full_res: bool = False,
    ) -> dict[str, torch.Tensor]:
        """image [B,3,S,S], shallow/decoder_feat at S/16, p0 = [M0;E0] logits at S/4,
        cov1 = box coverage [B,1,S,S] (with `box_prior`). Returns p0 too (with the prior).
        `full_res`: METHOD.md's literal formulation with X1 built at full resolution
        (the same numbers, slower; tests compare the two)."""
        f8s = F.relu(upsample2x(self.shallow_to8(shallow)))
        f8d = F.relu(upsample2x(self.decoder_to8(decoder_feat)))
        i2 = F.avg_pool2d(image, 2)
        i4 = F.avg_pool2d(i2, 2)
        i8 = F.avg_pool2d(i4, 2)
        b1 = b2 = b4 = b8 = None
        if self.box_prior:
            if cov1 is None:
                raise ValueError("this refiner needs the box coverage (box_prior)")
            b1 = cov1
            b2 = F.avg_pool2d(b1, 2)
            b4 = F.avg_pool2d(b2, 2)
            b8 = F.avg_pool2d(b4, 2)
            prior = self.prior_gain * 8.0 * (b4 - 0.5)
            p0 = p0 + torch.cat([prior, torch.zeros_like(prior)], dim=1)

        def cat(*xs: torch.Tensor | None) -> torch.Tensor:
            return torch.cat([x for x in xs if x is not None], dim=1)

        p8 = F.avg_pool2d(torch.sigmoid(p0), 2)
        x4 = self.r1(cat(f8s, f8d, i8, p8, b8))
        p4 = self.phi1(x4) + p0
        x2 = self.r2(cat(x4, i4, torch.sigmoid(p4), b4))
        p2 = self.phi2(x2) + upsample2x(p4)
        if self.without_r3:
            return {"p0": p0, "p4": p4, "p2": p2, "p1": upsample2x(p2[:, 0:1] if self._mask_only else p2)}
        if full_res:
            x1 = self.r3(cat(x2, i2, torch.sigmoid(p2), b2))
            head_in = cat(x1, image, b1) if self.box_prior else x1
            p1 = self.phi3(head_in) + upsample2x(p2)
            return {"p0": p0, "p4": p4, "p2": p2, "p1": p1, "iou": self.iou_head(x1)}
        # The full-resolution features X1 = up(Y1) are never built: phi3 is a 1x1 conv
        # and bilinear upsampling is linear with weights summing to 1, so
        # phi3([X1; I1; B1]) + up(P2) = up(W_x Y1 + b + P2) + W_i I1 + W_b B1, and the
        # IoU head's 4x4 mean of X1 is a fixed filter on Y1. Same numbers, a quarter of
        # the full-resolution work (onnxruntime-web spent a fifth of the decoder on the
        # 256 x 256 upsampling and concatenation).
        y1 = self.r3(cat(x2, i2, torch.sigmoid(p2), b2), upsample=False)
        wx, wi, wb = self.head_parts()
        bias = self.phi3.bias if self._frozen_bias is None else self._frozen_bias
        p1 = upsample2x(F.conv2d(y1, wx, bias) + (p2[:, 0:1] if self._mask_only else p2))
        if self.box_prior:
            p1 = p1 + F.conv2d(image, wi) + F.conv2d(b1, wb)
        iou = self.iou_head[1:](avg_pool4_of_upsampled(y1, self.pool4))
        return {"p0": p0, "p4": p4, "p2": p2, "p1": p1, "iou": iou}
