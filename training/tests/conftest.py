import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)

torch.set_num_threads(2)

def missing(reason: str) -> None:
    """Skip the test for a missing prerequisite, or fail it when CI is set (.ci/run sets
    CI=1): CI must not pass by skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: missing prerequisites fail)")
    pytest.skip(reason)


FIXTURES = os.path.normpath(os.path.join(TRAINING, "..", "..", "shared", "fixtures"))


@pytest.fixture(scope="session")
def sam_shapes() -> dict:
    import json

    path = os.path.join(FIXTURES, "sam_state_dict_shapes.json")
    if not os.path.exists(path):
        missing(f"missing {path}")
    with open(path) as f:
        return json.load(f)["vit_b"]
