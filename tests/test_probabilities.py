"""The renormalised geometric mean of probabilities, against values by hand."""

from __future__ import annotations

import numpy as np

from audioclf.probabilities import geometric_mean


def test_equal_and_weighted_geometric_means_by_hand() -> None:
    a = np.array([[0.8, 0.2], [0.5, 0.5]])
    b = np.array([[0.2, 0.8], [0.9, 0.1]])
    both = geometric_mean(np.stack([a, b]))
    # row 0: sqrt(.16) for both classes → 0.5 / 0.5; row 1: sqrt(.45), sqrt(.05)
    np.testing.assert_allclose(both[0], [0.5, 0.5])
    expected = np.sqrt([0.45, 0.05]) / np.sqrt([0.45, 0.05]).sum()
    np.testing.assert_allclose(both[1], expected)
    weighted = geometric_mean(np.stack([a, b]), weights=[3, 1])
    row = np.array([0.8**0.75 * 0.2**0.25, 0.2**0.75 * 0.8**0.25])
    np.testing.assert_allclose(weighted[0], row / row.sum())


def test_a_zero_does_not_veto_and_nothing_underflows() -> None:
    sure = np.array([[1.0, 0.0, 0.0]])
    unsure = np.array([[0.0, 0.6, 0.4]])
    out = geometric_mean(np.stack([sure, unsure]))
    assert np.isfinite(out).all() and abs(out.sum() - 1) < 1e-12
    assert out[0, 1] > out[0, 2]  # the floor keeps the others' preference
    tiny = np.full((1, 1, 2), 1e-300)
    np.testing.assert_allclose(geometric_mean(tiny, axis=0), [[0.5, 0.5]])
