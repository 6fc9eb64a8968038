"""SAM's PromptEncoder, with the prompt conventions of docs/CONTRACT.md.

Parameter names follow segment-anything (`pe_layer.positional_encoding_gaussian_matrix`,
`point_embeddings.{0..3}`, `not_a_point_embed`, `mask_downscaling`, `no_mask_embed`) so that
official SAM weights load into this class. Differences from SAM's `_embed_points`:

- coordinates are model-frame continuous: no +0.5 shift is applied here;
- every prompt is a fixed set of N tokens (CONTRACT: N = 5); labels 0/1 are background /
  foreground points, 2/3 are box corners, -1 is "not a point" (its coordinates are ignored);
- written without data-dependent control flow, so the ONNX graph has a dynamic batch.
"""

from __future__ import annotations

from typing import Type

import numpy as np
import torch
from torch import nn

from .common import LayerNorm2d


class PositionEmbeddingRandom(nn.Module):
    """Positional encoding using random spatial frequencies (SAM)."""

    def __init__(self, num_pos_feats: int = 64, scale: float | None = None) -> None:
        super().__init__()
        if scale is None or scale <= 0.0:
            scale = 1.0
        self.register_buffer(
            "positional_encoding_gaussian_matrix", scale * torch.randn((2, num_pos_feats))
        )

    def _pe_encoding(self, coords: torch.Tensor) -> torch.Tensor:
        """Positionally encode points normalized to [0, 1]."""
        coords = 2 * coords - 1
        coords = coords @ self.positional_encoding_gaussian_matrix
        coords = 2 * np.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def forward(self, size: tuple[int, int]) -> torch.Tensor:
        """Dense PE [C, H, W] for a grid of the given size (cell centres)."""
        h, w = size
        device = self.positional_encoding_gaussian_matrix.device
        grid = torch.ones((h, w), device=device, dtype=torch.float32)
        y_embed = (grid.cumsum(dim=0) - 0.5) / h
        x_embed = (grid.cumsum(dim=1) - 0.5) / w
        pe = self._pe_encoding(torch.stack([x_embed, y_embed], dim=-1))
        return pe.permute(2, 0, 1)

    def forward_with_coords(
        self, coords: torch.Tensor, image_size: tuple[int, int]
    ) -> torch.Tensor:
        """PE of points [B, N, 2] given in pixels of an image of size (H, W)."""
        scale = torch.tensor(
            [1.0 / image_size[1], 1.0 / image_size[0]], dtype=coords.dtype, device=coords.device
        )
        return self._pe_encoding((coords * scale).to(torch.float))


class PromptEncoder(nn.Module):
    """Encodes point/box-corner tokens (sparse) and the absent mask prompt (dense)."""

    def __init__(
        self,
        embed_dim: int,
        image_embedding_size: tuple[int, int],
        input_image_size: tuple[int, int],
        mask_in_chans: int = 16,
        activation: Type[nn.Module] = nn.GELU,
        dense_box_prior: bool = False,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.input_image_size = input_image_size
        self.image_embedding_size = image_embedding_size
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)

        self.num_point_embeddings: int = 4  # pos/neg point + 2 box corners
        self.point_embeddings = nn.ModuleList(
            [nn.Embedding(1, embed_dim) for _ in range(self.num_point_embeddings)]
        )
        self.not_a_point_embed = nn.Embedding(1, embed_dim)

        # SAM's mask-prompt path. With `dense_box_prior` it embeds the oriented box's coverage
        # (modeling/box_prior.py) as a dense prompt added to `no_mask_embed`; its last conv
        # starts at zero, so the prior enters the embedding only as far as training wants it.
        self.dense_box_prior = dense_box_prior
        self.mask_input_size = (4 * image_embedding_size[0], 4 * image_embedding_size[1])
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans // 4),
            activation(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans),
            activation(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)
        if dense_box_prior:
            nn.init.zeros_(self.mask_downscaling[-1].weight)
            nn.init.zeros_(self.mask_downscaling[-1].bias)

    def get_dense_pe(self) -> torch.Tensor:
        """Dense positional encoding [1, C, h, w] of the image embedding grid."""
        return self.pe_layer(self.image_embedding_size).unsqueeze(0)

    def embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Sparse tokens [B, N, C] from model-frame coords [B, N, 2] and labels [B, N]."""
        pe = self.pe_layer.forward_with_coords(coords, self.input_image_size)
        labels = labels.unsqueeze(-1)
        is_pad = (labels == -1).to(pe.dtype)
        emb = pe * (1.0 - is_pad) + self.not_a_point_embed.weight * is_pad
        for i in range(self.num_point_embeddings):
            emb = emb + self.point_embeddings[i].weight * (labels == i).to(pe.dtype)
        return emb

    def forward(
        self,
        coords: torch.Tensor,
        labels: torch.Tensor,
        box_coverage: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns sparse [B, N, C] and dense embeddings: [1, C, h, w] (broadcast) without a
        box prior, [B, C, h, w] with one (`box_coverage` [B, 1, 4h, 4w])."""
        sparse = self.embed_points(coords, labels)
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(
            1, -1, self.image_embedding_size[0], self.image_embedding_size[1]
        )
        if self.dense_box_prior:
            if box_coverage is None:
                raise ValueError("this prompt encoder needs the box coverage (dense_box_prior)")
            dense = dense + self.mask_downscaling(box_coverage)
        return sparse, dense
