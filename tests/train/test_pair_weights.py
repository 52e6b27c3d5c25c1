"""The neural member's weight in auto's pair, chosen on validation predictions."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.train.pair_weights import GRID, balanced_log_likelihood, choose_pair_weight

TARGETS = np.array([0, 0, 1, 1])


def two_class(p_true: list[float]) -> np.ndarray:
    """Probabilities giving each clip of TARGETS ``p_true`` on its own class."""
    p = np.array(p_true)
    return np.stack([np.where(TARGETS == 0, p, 1 - p), np.where(TARGETS == 1, p, 1 - p)], 1)


def test_balanced_log_likelihood_by_hand() -> None:
    # class 0 has three clips, class 1 one: each class counts once
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.2, 0.8]])
    targets = np.array([0, 0, 0, 1])
    expected = (np.log(0.5) + np.log(0.8)) / 2
    assert balanced_log_likelihood(probs, targets) == pytest.approx(expected)


def test_a_useless_neural_member_gets_no_weight() -> None:
    classical = two_class([0.8, 0.7, 0.9, 0.8])
    wrong = two_class([0.1, 0.2, 0.1, 0.3])
    chosen = choose_pair_weight(wrong, classical, TARGETS)
    assert chosen.neural == 0.0 and chosen.classical == 1.0
    assert set(chosen.scores) == set(GRID)


def test_the_neural_member_never_gets_more_than_half() -> None:
    # the other way round the CNN would deserve everything; it gets the equal share
    classical = two_class([0.1, 0.2, 0.1, 0.3])
    neural = two_class([0.8, 0.7, 0.9, 0.8])
    assert max(GRID) == 0.5
    assert choose_pair_weight(neural, classical, TARGETS).neural == 0.5


def test_weights_in_between_and_ties_go_to_the_plain_product() -> None:
    # the classical member is sharper on most clips, the CNN saves the last
    neural = two_class([0.6, 0.6, 0.6, 0.7])
    classical = two_class([0.9, 0.9, 0.9, 0.4])
    chosen = choose_pair_weight(neural, classical, TARGETS)
    assert chosen.neural == 0.25
    assert chosen.scores[0.25] == max(chosen.scores.values())
    # identical members: every weight scores the same, the product (0.5) is kept
    assert choose_pair_weight(classical, classical, TARGETS).neural == 0.5


def test_predictions_must_line_up() -> None:
    with pytest.raises(ValueError, match="do not line up"):
        choose_pair_weight(two_class([0.5] * 4), two_class([0.5] * 4)[:3], TARGETS)
