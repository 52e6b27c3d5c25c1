"""The neural member's weight in auto's pair, chosen on validation predictions."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.train.auto.pair_weights import (
    GRID,
    Z,
    balanced_gain,
    balanced_log_likelihood,
    choose_pair_weight,
)

TARGETS = np.array([0, 0, 1, 1])


def two_class(p_true: list[float], targets: np.ndarray = TARGETS) -> np.ndarray:
    """Probabilities giving each clip of ``targets`` ``p_true`` on its own class."""
    p = np.array(p_true)
    return np.stack([np.where(targets == 0, p, 1 - p), np.where(targets == 1, p, 1 - p)], 1)


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


def test_balanced_gain_and_its_standard_error_by_hand() -> None:
    base = two_class([0.5, 0.5, 0.5, 0.5])
    better = two_class([0.5, 0.8, 0.5, 0.5])
    gain, se = balanced_gain(better, base, TARGETS)
    # clip 2 gains log(1.6); class-balanced weights are 1/4 for each of the four clips
    diffs = np.array([0.0, np.log(1.6), 0.0, 0.0])
    assert gain == pytest.approx(diffs.mean())
    assert se == pytest.approx(np.sqrt(np.sum((diffs - diffs.mean()) ** 2) / 16))


def test_a_gain_within_the_noise_of_a_few_clips_gets_no_weight() -> None:
    # the classical member is sharper on three clips, the CNN saves the fourth: the
    # likelihood barely moves (+0.003 ± 0.05 at 0.25), so the classical model stays alone
    neural = two_class([0.6, 0.6, 0.6, 0.7])
    classical = two_class([0.9, 0.9, 0.9, 0.4])
    chosen = choose_pair_weight(neural, classical, TARGETS)
    assert chosen.scores[0.25] > chosen.scores[0.0]
    gain, se = chosen.gains[0.25]
    assert 0 < gain < Z * se
    assert chosen.neural == 0.0


def test_the_best_share_whose_gain_is_clear_is_kept() -> None:
    # forty clips in which the CNN is sure where the classical model is not, and the
    # other way round: a quarter share scores best, its gain is well past the noise
    targets = np.tile(TARGETS, 10)
    neural = two_class([0.4, 0.6, 0.9, 0.9] * 10, targets)
    classical = two_class([0.9, 0.9, 0.6, 0.6] * 10, targets)
    chosen = choose_pair_weight(neural, classical, targets)
    assert chosen.neural == 0.25 == max(chosen.scores, key=lambda w: chosen.scores[w])
    gain, se = chosen.gains[0.25]
    assert gain > Z * se
    # on four of those clips the same gain is within the noise
    assert choose_pair_weight(neural[:4], classical[:4], targets[:4]).neural == 0.0


def test_a_share_that_scores_best_but_unclearly_gives_way_to_a_clear_one() -> None:
    neural = two_class([0.2, 0.2, 0.99, 0.99])
    classical = two_class([0.99, 0.99, 0.3, 0.3])
    chosen = choose_pair_weight(neural, classical, TARGETS)
    assert chosen.scores[0.5] > chosen.scores[0.25] > chosen.scores[0.0]
    assert chosen.gains[0.5][0] < Z * chosen.gains[0.5][1]
    assert chosen.neural == 0.25


def test_no_gain_keeps_the_classical_member_and_a_uniform_gain_is_clear() -> None:
    # identical members: every share scores the same (up to float32 rounding), no gain
    classical = two_class([0.6, 0.6, 0.6, 0.6])
    assert choose_pair_weight(classical, classical, TARGETS).neural == 0.0
    # a CNN that helps every clip alike: no spread, so the gain is clear, and the largest
    # share scores best
    sure = two_class([0.9, 0.9, 0.9, 0.9])
    assert choose_pair_weight(sure, classical, TARGETS).neural == 0.5


def test_predictions_must_line_up() -> None:
    with pytest.raises(ValueError, match="do not line up"):
        choose_pair_weight(two_class([0.5] * 4), two_class([0.5] * 4)[:3], TARGETS)
