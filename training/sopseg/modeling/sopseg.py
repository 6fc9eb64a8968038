"""Sopseg: encoder + prompt encoder + mask decoder (stage 1) + progressive refiner (stage 2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .box_prior import box_coverage
from .image_encoder import LiteImageEncoder
from .mask_decoder import MaskDecoder
from .prompt_encoder import PromptEncoder
from .refinement import ProgressiveRefiner


class Sopseg(nn.Module):
    """The whole model. `forward` returns every prediction the loss needs."""

    def __init__(
        self,
        image_encoder: LiteImageEncoder,
        prompt_encoder: PromptEncoder,
        mask_decoder: MaskDecoder,
        refiner: ProgressiveRefiner,
        input_size: int = 256,
    ) -> None:
        super().__init__()
        self.image_encoder = image_encoder
        self.prompt_encoder = prompt_encoder
        self.mask_decoder = mask_decoder
        self.refiner = refiner
        self.input_size = input_size

    def set_input_size(self, input_size: int) -> None:
        """Run at another crop side (a multiple of 16): no weight depends on it, only the
        prompt frame and the embedding grid do."""
        if input_size % 16:
            raise ValueError(f"input_size must be a multiple of 16, got {input_size}")
        grid = input_size // 16
        self.input_size = input_size
        pe = self.prompt_encoder
        pe.input_image_size = (input_size, input_size)
        pe.image_embedding_size = (grid, grid)
        pe.mask_input_size = (4 * grid, 4 * grid)

    def decode(
        self,
        image: torch.Tensor,
        image_embeddings: torch.Tensor,
        shallow_features: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        class_onehot: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        box_prior = self.refiner.box_prior or self.prompt_encoder.dense_box_prior
        cov1 = None
        if box_prior:
            cov1 = box_coverage(point_coords, point_labels, self.input_size, self.input_size)
        cov_dense = None
        if self.prompt_encoder.dense_box_prior:
            side = self.prompt_encoder.mask_input_size[0]
            cov_dense = F.avg_pool2d(cov1, self.input_size // side)
        sparse, dense = self.prompt_encoder(point_coords, point_labels, cov_dense)
        m0, e0, iou0, feat = self.mask_decoder(
            image_embeddings, self.prompt_encoder.get_dense_pe(), sparse, dense, class_onehot
        )
        # the refiner returns p0 as well: [M0; E0], plus the box prior's logits when it has one
        out = self.refiner(image, shallow_features, feat, torch.cat([m0, e0], dim=1), cov1)
        out["iou0"] = iou0
        if "iou" not in out:
            # a refiner without R3 (inference only) has no IoU head: stage 1's prediction is it
            out["iou"] = iou0
        return out

    def forward(
        self,
        image: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        class_onehot: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """image [B,3,256,256] normalised crop; coords [B,5,2] model frame; labels [B,5];
        class_onehot [B,K] the class prompt (None: unknown; models with a class prompt).

        Returns logits `p0` (1/4, stage 1), `p4` (1/4), `p2` (1/2), `p1` (1/1), each
        [B,2,...] with channel 0 = mask, 1 = edge; `iou` [B,1] and `iou0` [B,1].
        """
        emb, shallow = self.image_encoder(image)
        return self.decode(image, emb, shallow, point_coords, point_labels, class_onehot)
