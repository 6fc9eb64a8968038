"""A lite CNN + attention image encoder: crop [B,3,256,256] -> embeddings at 1/16."""

from __future__ import annotations

import torch
from torch import nn

from .common import ConvBNAct, LayerNorm2d, MLPBlock


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand -> 3x3 depthwise -> 1x1 project, residual if shapes match."""

    def __init__(self, cin: int, cout: int, stride: int = 1, expand: int = 3) -> None:
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            ConvBNAct(cin, mid, 1),
            ConvBNAct(mid, mid, 3, stride, groups=mid),
            ConvBNAct(mid, cout, 1, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_res else y


class GlobalAttentionBlock(nn.Module):
    """Pre-norm multi-head self-attention + MLP over the tokens of a [B,C,H,W] map."""

    def __init__(self, dim: int, num_heads: int = 4, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)  # [B, N, C]
        n = h * w
        hd = c // self.num_heads
        qkv = self.qkv(self.norm1(t)).reshape(b, n, 3, self.num_heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, heads, N, hd]
        attn = torch.softmax((q * hd**-0.5) @ k.transpose(-2, -1), dim=-1)
        o = (attn @ v).transpose(1, 2).reshape(b, n, c)
        t = t + self.proj(o)
        t = t + self.mlp(self.norm2(t))
        return t.transpose(1, 2).reshape(b, c, h, w)


class LiteImageEncoder(nn.Module):
    """Inverted-residual stages to 1/16, one global attention block, SAM-like neck.

    Returns `image_embeddings` [B, embed_dim, H/16, W/16] and `shallow_features`
    [B, shallow_dim, H/16, W/16] (from the 1/8 stage, brought down by a strided conv).
    """

    def __init__(
        self,
        embed_dim: int = 128,
        shallow_dim: int = 64,
        widths: tuple[int, int, int, int] = (16, 24, 48, 96),
        depths: tuple[int, int, int] = (1, 2, 3),
        num_attn_blocks: int = 1,
    ) -> None:
        super().__init__()
        w0, w1, w2, w3 = widths
        self.stem = ConvBNAct(3, w0, 3, 2)  # 1/2
        self.stage1 = nn.Sequential(  # 1/4 (a plain strided conv: cheap to train at 1/2)
            ConvBNAct(w0, w1, 3, 2),
            *[InvertedResidual(w1, w1, 1) for _ in range(depths[0])],
        )
        self.stage2 = nn.Sequential(  # 1/8
            InvertedResidual(w1, w2, 2, expand=3),
            *[InvertedResidual(w2, w2, 1) for _ in range(depths[1])],
        )
        self.stage3 = nn.Sequential(  # 1/16
            InvertedResidual(w2, w3, 2, expand=3),
            *[InvertedResidual(w3, w3, 1) for _ in range(depths[2])],
        )
        self.proj = nn.Conv2d(w3, embed_dim, 1)
        self.blocks = nn.Sequential(
            *[GlobalAttentionBlock(embed_dim) for _ in range(num_attn_blocks)]
        )
        self.neck = nn.Sequential(
            nn.Conv2d(embed_dim, embed_dim, 1, bias=False), LayerNorm2d(embed_dim)
        )
        self.shallow = nn.Sequential(
            nn.Conv2d(w2, shallow_dim, 3, 2, 1, bias=False), LayerNorm2d(shallow_dim)
        )

    @torch.no_grad()
    def identity_init(self, attn_from: int, stage3_from: int) -> None:
        """Make the attention blocks from index `attn_from` and the stage-3 blocks after the
        first `stage3_from` (counted after the downsampling block) the identity: their
        residual branches end in zero (output projection and MLP's last layer; the project
        BatchNorm's scale). A model grown from a checkpoint then starts as the model it was."""
        for blk in list(self.blocks)[attn_from:]:
            for lin in (blk.proj, blk.mlp.lin2):
                lin.weight.zero_()
                lin.bias.zero_()
        for ir in list(self.stage3)[1 + stage3_from :]:
            bn = ir.block[2][1]
            bn.weight.zero_()
            bn.bias.zero_()

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(image)
        x = self.stage1(x)
        s8 = self.stage2(x)
        x = self.stage3(s8)
        x = self.blocks(self.proj(x))
        return self.neck(x), self.shallow(s8)
