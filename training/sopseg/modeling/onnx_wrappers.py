"""Export wrappers with exactly the tensor names of docs/CONTRACT.md."""

from __future__ import annotations

import torch
from torch import nn

from .sopseg import Sopseg

ENCODER_INPUTS = ["image"]
ENCODER_OUTPUTS = ["image_embeddings", "shallow_features"]
DECODER_INPUTS = ["image", "image_embeddings", "shallow_features", "point_coords", "point_labels"]
# The edge map (`p1` channel 1) is a training target only: the export leaves it out
# (ProgressiveRefiner.freeze_for_export(mask_only=True)), so the graph never computes it.
DECODER_OUTPUTS = ["mask_logits", "iou_predictions"]
# the class prompt, an input only of models that have one (MaskDecoder.class_embed)
CLASS_INPUT = "class_onehot"


def decoder_inputs(model: Sopseg) -> list[str]:
    """The decoder graph's inputs, in order: CLASS_INPUT last when the model has it."""
    has_class = model.mask_decoder.class_embed is not None
    return DECODER_INPUTS + ([CLASS_INPUT] if has_class else [])


class EncoderOnnx(nn.Module):
    """image [B,3,256,256] -> image_embeddings [B,C,16,16], shallow_features [B,Cs,16,16]."""

    def __init__(self, model: Sopseg) -> None:
        super().__init__()
        self.image_encoder = model.image_encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.image_encoder(image)


class DecoderOnnx(nn.Module):
    """(image, embeddings, shallow, coords, labels[, class_onehot]) -> mask_logits, iou."""

    def __init__(self, model: Sopseg) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        image: torch.Tensor,
        image_embeddings: torch.Tensor,
        shallow_features: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        class_onehot: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.decode(
            image, image_embeddings, shallow_features, point_coords, point_labels, class_onehot
        )
        return out["p1"][:, 0:1], out["iou"]
