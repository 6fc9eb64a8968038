"""The class prompt: the detector's class as a one-hot input of the decoder."""

import json
import os

import numpy as np
import onnx
import torch

import export as export_mod
from sopseg.data import class_onehot
from sopseg.loss import sopseg_loss
from sopseg.modeling import NUM_CLASS_PROMPTS, build_sopseg_lite, load_weights
from test_training import tiny_batch


def test_class_onehot_drop_and_out_of_range() -> None:
    cats = torch.tensor([1, 9, 15, 0, 16, -3] * 200)
    oh = class_onehot(cats, NUM_CLASS_PROMPTS)
    assert oh.shape == (1200, NUM_CLASS_PROMPTS)
    assert torch.equal(oh.sum(1), torch.ones(1200))
    assert oh[0, 1] == 1 and oh[1, 9] == 1 and oh[2, 15] == 1
    # unknown: 0 itself, and ids the one-hot has no place for
    assert oh[3, 0] == 1 and oh[4, 0] == 1 and oh[5, 0] == 1
    dropped = class_onehot(cats, NUM_CLASS_PROMPTS, 0.25, np.random.default_rng(0))
    share = float((dropped.argmax(1) != oh.argmax(1)).float().mean())
    # a known class dropped to unknown: about 0.25 of the 600 known items, 0.125 of all
    assert 0.08 < share < 0.17


@torch.no_grad()
def test_an_older_checkpoint_loads_as_the_same_model() -> None:
    torch.manual_seed(0)
    old = build_sopseg_lite(class_prompt=False).eval()
    new = build_sopseg_lite().eval()
    assert load_weights(new, old.state_dict()) == ["mask_decoder.class_embed.weight"]
    b = tiny_batch(3)
    ref = old(b["image"], b["coords"], b["labels"])["p1"]
    cls = class_onehot(torch.tensor([1, 9, 0]), NUM_CLASS_PROMPTS)
    assert torch.equal(new(b["image"], b["coords"], b["labels"])["p1"], ref)
    assert torch.equal(new(b["image"], b["coords"], b["labels"], cls)["p1"], ref)


def test_the_class_embedding_trains_and_changes_the_mask() -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    b = tiny_batch(2)
    cls = class_onehot(torch.tensor([3, 3]), NUM_CLASS_PROMPTS)
    for _ in range(2):
        loss, _ = sopseg_loss(model(b["image"], b["coords"], b["labels"], cls), b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = model.mask_decoder.class_embed.weight
    assert float(w[:, 3].abs().sum()) > 0  # the class seen in training moved
    assert float(w[:, 5].abs().sum()) == 0  # one never seen did not
    model.eval()
    with torch.no_grad():
        a = model(b["image"], b["coords"], b["labels"], cls)["p1"]
        u = model(b["image"], b["coords"], b["labels"])["p1"]  # None: the unknown class
    assert float((a - u).abs().max()) > 1e-4


def test_export_declares_the_class_input(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_sopseg_lite()
    torch.nn.init.normal_(model.mask_decoder.class_embed.weight, std=0.5)
    m = export_mod.export(model, str(tmp_path), {"random_init": True}, verbose=False)
    assert m["decoder"]["inputs"]["class_onehot"] == [-1, NUM_CLASS_PROMPTS]
    assert m["class_prompt"]["input"] == "class_onehot"
    assert m["class_prompt"]["size"] == NUM_CLASS_PROMPTS
    assert m["class_prompt"]["unknown_index"] == 0
    g = onnx.load(os.path.join(tmp_path, "decoder.onnx"))
    assert [i.name for i in g.graph.input][-1] == "class_onehot"
    with open(os.path.join(tmp_path, "manifest.json")) as f:
        assert json.load(f)["class_prompt"]["size"] == NUM_CLASS_PROMPTS
