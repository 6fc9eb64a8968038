import numpy as np

from make_golden import rle_encode


def rle_decode(rle: dict) -> np.ndarray:
    h, w = rle["size"]
    flat = np.zeros(h * w, np.uint8)
    pos, val = 0, 0
    for c in rle["counts"]:
        flat[pos : pos + c] = val
        pos += c
        val ^= 1
    return flat.reshape((h, w), order="F")


def test_rle_round_trip() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        m = (rng.random((13, 9)) > 0.6).astype(np.uint8)
        assert np.array_equal(rle_decode(rle_encode(m)), m)
    full = np.ones((3, 4), np.uint8)
    assert rle_encode(full)["counts"] == [0, 12]
