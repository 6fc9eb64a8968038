import pytest
import torch

from sopseg.modeling import build_sopseg_lite
from soup import soup_state


def _state(seed: int) -> dict:
    torch.manual_seed(seed)
    m = build_sopseg_lite()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_a_soup_is_the_weighted_mean_of_the_float_tensors_and_keeps_counters() -> None:
    a, b = _state(0), _state(1)
    for k, v in b.items():
        if not torch.is_floating_point(v):
            b[k] = v + 7  # a step counter that differs: taken from B
    s = soup_state(a, b, 0.3)
    floats = [k for k in a if torch.is_floating_point(a[k])]
    assert floats and any(not torch.is_floating_point(v) for v in a.values())
    for k in a:
        if torch.is_floating_point(a[k]):
            torch.testing.assert_close(s[k], 0.7 * a[k] + 0.3 * b[k])
        else:
            assert torch.equal(s[k], b[k])
    for k in floats:  # the ends are the two models themselves
        torch.testing.assert_close(soup_state(a, b, 0.0)[k], a[k])
        torch.testing.assert_close(soup_state(a, b, 1.0)[k], b[k])


def test_a_soup_of_different_architectures_is_refused() -> None:
    a, b = _state(0), _state(1)
    b.pop(next(iter(b)))
    with pytest.raises(ValueError, match="differ in keys"):
        soup_state(a, b, 0.5)
