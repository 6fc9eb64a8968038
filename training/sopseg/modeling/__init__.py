"""SOPSeg model modules (segment-anything layout: one nn.Module per file)."""

from .build import (
    DEFAULT_ENCODER_DEPTH,
    NUM_CLASS_PROMPTS,
    build_from_state,
    build_sopseg_lite,
    checkpoint_input_size,
    load_weights,
    sopseg_model_registry,
    state_arch,
)
from .image_encoder import LiteImageEncoder
from .mask_decoder import MaskDecoder
from .onnx_wrappers import DecoderOnnx, EncoderOnnx
from .prompt_encoder import PromptEncoder
from .refinement import ProgressiveRefiner
from .sopseg import Sopseg
from .transformer import TwoWayTransformer

__all__ = [
    "DEFAULT_ENCODER_DEPTH",
    "NUM_CLASS_PROMPTS",
    "build_from_state",
    "build_sopseg_lite",
    "checkpoint_input_size",
    "load_weights",
    "sopseg_model_registry",
    "state_arch",
    "LiteImageEncoder",
    "MaskDecoder",
    "DecoderOnnx",
    "EncoderOnnx",
    "PromptEncoder",
    "ProgressiveRefiner",
    "Sopseg",
    "TwoWayTransformer",
]
