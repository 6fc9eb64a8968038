"""SAM's MaskDecoder with SOPSeg's added edge token (stage 1: M0, E0 at 1/4)."""

from __future__ import annotations

from typing import Type

import torch
from torch import nn

from .common import MLP, ConvTranspose2x2, LayerNorm2d


class MaskDecoder(nn.Module):
    """Predicts a mask (M0), an edge map (E0) and a mask-quality score from prompt tokens.

    Output tokens are `[iou_token, mask_tokens..., edge_token]`. SAM names are kept
    (`iou_token`, `mask_tokens`, `output_upscaling`, `output_hypernetworks_mlps`,
    `iou_prediction_head`); the additions are `edge_token` and `edge_hypernetwork_mlp`.
    Only mask token 0 (SAM's single-mask output) is used; `num_multimask_outputs=3`
    gives SAM's layout for loading official weights.
    """

    def __init__(
        self,
        *,
        transformer_dim: int,
        transformer: nn.Module,
        num_multimask_outputs: int = 0,
        activation: Type[nn.Module] = nn.GELU,
        iou_head_depth: int = 3,
        iou_head_hidden_dim: int = 256,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        # The detector's class as a prompt: a one-hot [B, num_classes] (index 0 = unknown)
        # mapped to a vector added to every token. Zero-initialised, so a checkpoint
        # without it is the same model until training moves it.
        self.num_classes = num_classes
        self.class_embed = (
            nn.Linear(num_classes, transformer_dim, bias=False) if num_classes > 0 else None
        )
        if self.class_embed is not None:
            nn.init.zeros_(self.class_embed.weight)
        self.transformer_dim = transformer_dim
        self.transformer = transformer
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, transformer_dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, transformer_dim)
        self.edge_token = nn.Embedding(1, transformer_dim)
        self.output_upscaling = nn.Sequential(
            ConvTranspose2x2(transformer_dim, transformer_dim // 4),
            LayerNorm2d(transformer_dim // 4),
            activation(),
            ConvTranspose2x2(transformer_dim // 4, transformer_dim // 8),
            activation(),
        )
        self.output_hypernetworks_mlps = nn.ModuleList(
            [
                MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3)
                for _ in range(self.num_mask_tokens)
            ]
        )
        self.edge_hypernetwork_mlp = MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3)
        self.iou_prediction_head = MLP(
            transformer_dim, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth
        )

    def forward(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        class_onehot: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns M0 [B,1,4h,4w], E0 [B,1,4h,4w], stage-1 IoU [B,1], image tokens [B,C,h,w].

        Batch item b of the image embedding goes with batch item b of the prompts.
        `class_onehot` [B, num_classes] (with `num_classes`): the class prompt; None is
        the unknown class (index 0) for every item.
        """
        b = sparse_prompt_embeddings.shape[0]
        output_tokens = torch.cat(
            [self.iou_token.weight, self.mask_tokens.weight, self.edge_token.weight], dim=0
        )
        output_tokens = output_tokens.unsqueeze(0).expand(b, -1, -1)
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)
        if self.class_embed is not None:
            if class_onehot is None:
                cls = self.class_embed.weight[:, 0].unsqueeze(0).expand(b, -1)
            else:
                cls = self.class_embed(class_onehot)
            tokens = tokens + cls.unsqueeze(1)

        src = image_embeddings + dense_prompt_embeddings
        _, c, h, w = image_embeddings.shape
        pos_src = image_pe.expand(b, -1, -1, -1)

        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, 0, :]
        mask_token_out = hs[:, 1, :]
        edge_token_out = hs[:, 1 + self.num_mask_tokens, :]

        src = src.transpose(1, 2).reshape(b, c, h, w)
        upscaled = self.output_upscaling(src)  # [B, C/8, 4h, 4w]
        c8 = upscaled.shape[1]
        hyper = torch.stack(
            [
                self.output_hypernetworks_mlps[0](mask_token_out),
                self.edge_hypernetwork_mlp(edge_token_out),
            ],
            dim=1,
        )  # [B, 2, C/8]
        out = (hyper @ upscaled.reshape(b, c8, 16 * h * w)).reshape(b, 2, 4 * h, 4 * w)
        iou_pred = self.iou_prediction_head(iou_token_out)[:, 0:1]
        return out[:, 0:1], out[:, 1:2], iou_pred, src
