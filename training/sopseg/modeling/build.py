"""Model builders (a registry, as in segment-anything)."""

from __future__ import annotations

from typing import Callable

import torch

from ..geometry import INPUT_SIZE
from .image_encoder import LiteImageEncoder
from .mask_decoder import MaskDecoder
from .prompt_encoder import PromptEncoder
from .refinement import ProgressiveRefiner
from .sopseg import Sopseg
from .transformer import TwoWayTransformer

EMBED_DIM = 128
SHALLOW_DIM = 64
# class prompt: index 0 = unknown, 1..15 = the iSAID category ids (sopseg/classes.py)
NUM_CLASS_PROMPTS = 16
# the encoder's depth at 1/16 of every checkpoint up to stretch 14 (`state_arch` reads a
# checkpoint's own)
DEFAULT_ENCODER_DEPTH = {"attn_blocks": 1, "stage3_depth": 3}


def build_sopseg_lite(
    box_prior: bool = True,
    class_prompt: bool = True,
    input_size: int = INPUT_SIZE,
    attn_blocks: int = DEFAULT_ENCODER_DEPTH["attn_blocks"],
    stage3_depth: int = DEFAULT_ENCODER_DEPTH["stage3_depth"],
) -> Sopseg:
    """The shipped lite model: C = 128, Cs = 64, embeddings at 1/16 of the input (16x16 for
    256). `input_size`: the crop side in model pixels (a multiple of 16; nothing in the
    weights depends on it, so a checkpoint trained at one size loads at another).

    `box_prior`: the prompt's oriented box also enters as a dense prompt and as a channel
    of every refinement block (modeling/box_prior.py). False gives the first shipped
    layout (checkpoints up to step 1055). `class_prompt`: the detector's class enters as a
    one-hot of NUM_CLASS_PROMPTS (modeling/mask_decoder.py; zero-initialised, so older
    checkpoints load unchanged through `load_weights`). `attn_blocks`, `stage3_depth`: the
    encoder's depth at 1/16 (global attention blocks; inverted-residual blocks after stage
    3's downsampling); a checkpoint's are read by `state_arch`."""
    if input_size % 16:
        raise ValueError(f"input_size must be a multiple of 16, got {input_size}")
    grid = input_size // 16
    return Sopseg(
        image_encoder=LiteImageEncoder(
            embed_dim=EMBED_DIM,
            shallow_dim=SHALLOW_DIM,
            depths=(1, 2, stage3_depth),
            num_attn_blocks=attn_blocks,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=EMBED_DIM,
            image_embedding_size=(grid, grid),
            input_image_size=(input_size, input_size),
            mask_in_chans=16,
            dense_box_prior=box_prior,
        ),
        mask_decoder=MaskDecoder(
            transformer_dim=EMBED_DIM,
            transformer=TwoWayTransformer(
                depth=2, embedding_dim=EMBED_DIM, num_heads=4, mlp_dim=512
            ),
            num_multimask_outputs=0,
            iou_head_depth=3,
            iou_head_hidden_dim=128,
            num_classes=NUM_CLASS_PROMPTS if class_prompt else 0,
        ),
        refiner=ProgressiveRefiner(
            embed_dim=EMBED_DIM, shallow_dim=SHALLOW_DIM, box_prior=box_prior
        ),
        input_size=input_size,
    )


def checkpoint_input_size(ck: dict) -> int:
    """The crop side a training checkpoint was trained at (256 for those from before the
    checkpoint recorded it)."""
    return int(ck.get("input_size", INPUT_SIZE))


def state_arch(state: dict) -> dict[str, int]:
    """The encoder depth a state dict was trained with, as `build_sopseg_lite`'s keyword
    arguments (checkpoints before stretch 15: 1 attention block, stage-3 depth 3)."""

    def count(prefix: str) -> int:
        return len({k[len(prefix) :].split(".")[0] for k in state if k.startswith(prefix)})

    return {
        "attn_blocks": count("image_encoder.blocks."),
        "stage3_depth": count("image_encoder.stage3.") - 1,
    }


def build_from_state(state: dict, input_size: int) -> Sopseg:
    """The model a state dict describes, with its weights (`load_weights`)."""
    model = build_sopseg_lite(input_size=input_size, **state_arch(state))
    load_weights(model, state)
    return model


def load_weights(model: Sopseg, state: dict) -> list[str]:
    """`model.load_state_dict(state)`, except that a checkpoint from before the class prompt
    loads with the class embedding at zero (the model it was). Returns the names filled."""
    filled = []
    key = "mask_decoder.class_embed.weight"
    if key in model.state_dict() and key not in state:
        state = dict(state)
        state[key] = torch.zeros_like(model.state_dict()[key])
        filled.append(key)
    model.load_state_dict(state)
    return filled


sopseg_model_registry: dict[str, Callable[[], Sopseg]] = {"sopseg-lite": build_sopseg_lite}
