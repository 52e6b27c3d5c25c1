"""Fixed-length crops: exact lengths, random windows, padding, whole-clip coverage."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from audioclf.features.crops import center_crop, crop_starts, eval_crops, random_crop


def _ramp(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.float32)


def test_random_crop_of_a_long_clip_is_a_window() -> None:
    y = _ramp(1000)
    starts = set()
    for seed in range(20):
        c = random_crop(y, 300, np.random.default_rng(seed))
        assert c.shape == (300,) and c.dtype == np.float32
        np.testing.assert_array_equal(np.diff(c), 1.0)
        starts.add(int(c[0]))
    assert len(starts) > 5


def test_random_crop_pads_a_short_clip_at_random_offsets() -> None:
    y = _ramp(100)
    offsets = set()
    for seed in range(20):
        c = random_crop(y, 300, np.random.default_rng(seed))
        assert c.shape == (300,) and c.dtype == np.float32
        nz = np.flatnonzero(c)
        np.testing.assert_array_equal(c[nz], y)
        offsets.add(int(nz[0]))
    assert len(offsets) > 5


def test_random_crop_returns_a_copy() -> None:
    y = _ramp(300)
    c = random_crop(y, 300, np.random.default_rng(0))
    c[:] = 0
    assert y[0] == 1


@pytest.mark.parametrize(
    ("length", "n", "hop"), [(1000, 300, 0.5), (1001, 250, 0.25), (601, 300, 1.0)]
)
def test_eval_crops_cover_the_whole_clip(length: int, n: int, hop: float) -> None:
    y = _ramp(length)
    crops = eval_crops(y, n, hop=hop)
    assert all(c.shape == (n,) and c.dtype == np.float32 for c in crops)
    np.testing.assert_array_equal(crops[0], y[:n])
    np.testing.assert_array_equal(crops[-1], y[-n:])
    covered = np.unique(np.concatenate(crops))
    np.testing.assert_array_equal(covered, y)
    starts = crop_starts(length, n, hop)
    assert all(0 < b - a <= round(n * hop) for a, b in itertools.pairwise(starts))


def test_eval_crops_of_a_short_clip_is_one_centred_window() -> None:
    y = _ramp(100)
    (only,) = eval_crops(y, 300)
    nz = np.flatnonzero(only)
    assert nz[0] == 100 and nz[-1] == 199
    assert len(eval_crops(_ramp(300), 300)) == 1


def test_center_crop() -> None:
    np.testing.assert_array_equal(center_crop(_ramp(10), 4), [4, 5, 6, 7])
    np.testing.assert_array_equal(center_crop(_ramp(2), 4), [0, 1, 2, 0])
    assert center_crop(np.zeros(0, np.float32), 5).shape == (5,)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="hop"):
        eval_crops(_ramp(10), 4, hop=0.0)
    with pytest.raises(ValueError, match="n_samples"):
        random_crop(_ramp(10), 0, np.random.default_rng(0))
