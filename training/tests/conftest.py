import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)

torch.set_num_threads(2)

FIXTURES = os.path.normpath(os.path.join(TRAINING, "..", "..", "shared", "fixtures"))


@pytest.fixture(scope="session")
def sam_shapes() -> dict:
    import json

    path = os.path.join(FIXTURES, "sam_state_dict_shapes.json")
    if not os.path.exists(path):
        pytest.skip(f"missing {path}")
    with open(path) as f:
        return json.load(f)["vit_b"]
