"""Write a tiny model directory whose encoder holds one multi-head attention over a
64x64 token grid (4096 tokens): the case USERS.md reports WebGPU (llvmpipe) getting
~30 % wrong. The backend self-check must reject WebGPU for it and fall back to WASM.

It follows the model contract (docs/CONTRACT.md) so `SopsegModel.load` takes it; its
weights are random (seeded) and its masks mean nothing.

    /usr/bin/python3 test/testdata/make_attention_probe.py   (from the repository root)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent / "attention_probe"


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 4, stride=4)  # 256 -> 64: 4096 tokens
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.emb = nn.Conv2d(32, 128, 1)
        self.shallow = nn.Conv2d(32, 64, 1)

    def forward(self, image: torch.Tensor):
        x = self.stem(image)
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        t = t + self.attn(t, t, t, need_weights=False)[0] * 10.0
        x = t.transpose(1, 2).reshape(b, c, h, w)
        x = F.avg_pool2d(x, 4)
        return self.emb(x), self.shallow(x)


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Conv2d(128 + 64 + 3, 2, 1)
        self.iou = nn.Linear(10 + 5, 1)

    def forward(self, image, image_embeddings, shallow_features, point_coords, point_labels):
        f = torch.cat([image_embeddings, shallow_features], 1)
        f = F.interpolate(f, scale_factor=16.0, mode="bilinear", align_corners=False)
        out = self.head(torch.cat([f, image], 1))
        p = torch.cat([point_coords.flatten(1) / 256.0, point_labels], 1)
        return out[:, :1], out[:, 1:], self.iou(p)


def main() -> None:
    torch.manual_seed(0)
    OUT.mkdir(exist_ok=True)
    enc, dec = Encoder().eval(), Decoder().eval()
    img = torch.randn(1, 3, 256, 256)
    e, s = enc(img)
    coords, labels = torch.rand(1, 5, 2) * 256, torch.tensor([[1.0, 1, 1, 2, 3]])
    batch = {0: "B"}
    torch.onnx.export(enc, (img,), OUT / "encoder.onnx", input_names=["image"],
                      output_names=["image_embeddings", "shallow_features"], opset_version=17,
                      dynamic_axes={"image": batch, "image_embeddings": batch,
                                    "shallow_features": batch})
    names = ["image", "image_embeddings", "shallow_features", "point_coords", "point_labels"]
    outs = ["mask_logits", "edge_logits", "iou_predictions"]
    torch.onnx.export(dec, (img, e, s, coords, labels), OUT / "decoder.onnx", input_names=names,
                      output_names=outs, opset_version=17,
                      dynamic_axes={n: batch for n in names + outs})
    manifest = {
        "format": "sopseg-model", "format_version": 1, "name": "attention-probe",
        "input_size": 256, "mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375],
        "num_prompt_tokens": 5, "prompt_frame": "model-continuous",
        "ram": {"m": 32, "k0": 2, "s_max": 1024, "s_min": 8},
        "encoder": {"file": "encoder.onnx", "inputs": {"image": [-1, 3, 256, 256]},
                    "outputs": {"image_embeddings": [-1, 128, 16, 16],
                                "shallow_features": [-1, 64, 16, 16]}},
        "decoder": {"file": "decoder.onnx",
                    "inputs": {"image": [-1, 3, 256, 256], "image_embeddings": [-1, 128, 16, 16],
                               "shallow_features": [-1, 64, 16, 16], "point_coords": [-1, 5, 2],
                               "point_labels": [-1, 5]},
                    "outputs": {"mask_logits": [-1, 1, 256, 256], "edge_logits": [-1, 1, 256, 256],
                                "iou_predictions": [-1, 1]}},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
