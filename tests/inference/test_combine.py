"""Combining members' probabilities: product and mean, weighted, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.inference.combine import EnsembleError, check_weights, combine_probabilities


def test_combine_rules_by_hand() -> None:
    a = np.array([[0.8, 0.2], [0.5, 0.5]])
    b = np.array([[0.2, 0.8], [0.9, 0.1]])
    np.testing.assert_allclose(combine_probabilities([a, b], "mean"), [[0.5, 0.5], [0.7, 0.3]])
    # geometric mean, renormalised: sqrt(.5*.9)=.6708, sqrt(.5*.1)=.2236 → .75 / .25
    product = combine_probabilities([a, b], "product")
    np.testing.assert_allclose(product, [[0.5, 0.5], [0.75, 0.25]], atol=1e-6)
    # a class one member rules out stays (almost) out under the product, not the mean
    ruled_out = [np.array([[1.0, 0.0]]), np.array([[0.1, 0.9]])]
    assert combine_probabilities(ruled_out, "product")[0, 1] < 1e-3
    assert combine_probabilities(ruled_out, "mean")[0, 1] == pytest.approx(0.45)


def test_weighted_combine_by_hand() -> None:
    a = np.array([[0.8, 0.2]])
    b = np.array([[0.2, 0.8]])
    # weighted mean: .75*.8 + .25*.2 = .65
    np.testing.assert_allclose(combine_probabilities([a, b], "mean", [0.75, 0.25]), [[0.65, 0.35]])
    # weighted geometric mean: .8^.75*.2^.25 = .5657, .2^.75*.8^.25 = .2828 → 2/3, 1/3
    product = combine_probabilities([a, b], "product", [0.75, 0.25])
    np.testing.assert_allclose(product, [[2 / 3, 1 / 3]], atol=1e-6)
    # a zero weight leaves the other member alone
    np.testing.assert_allclose(combine_probabilities([a, b], "product", [1, 0]), a, atol=1e-6)


def test_weights_are_checked_and_normalised() -> None:
    assert check_weights(None, 2) is None
    assert check_weights([1, 3], 2) == [0.25, 0.75]
    with pytest.raises(EnsembleError, match="one each"):
        check_weights([1, 2, 3], 2)
    for bad in ([0, 0], [-1, 2], [float("nan"), 1]):
        with pytest.raises(EnsembleError, match="non-negative"):
            check_weights(bad, 2)
