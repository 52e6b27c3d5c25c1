"""Metrics against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.evaluate.metrics import (
    classification_metrics,
    expected_calibration_error,
    mean_std,
)

LABELS = ["a", "b", "c"]


def one_hot_probs(pred: list[int], confidence: float = 0.8) -> np.ndarray:
    probs = np.full((len(pred), 3), (1 - confidence) / 2)
    probs[np.arange(len(pred)), pred] = confidence
    return probs


def test_hand_computed_example() -> None:
    # true:  a a a a b b c c
    # pred:  a a a b b c c c
    y = [0, 0, 0, 0, 1, 1, 2, 2]
    pred = [0, 0, 0, 1, 1, 2, 2, 2]
    m = classification_metrics(y, one_hot_probs(pred), LABELS)
    assert m["accuracy"] == pytest.approx(6 / 8)
    # recalls: a 3/4, b 1/2, c 2/2 → UA = (0.75 + 0.5 + 1) / 3
    assert m["balanced_accuracy"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    # precisions: a 3/3, b 1/2, c 2/3
    assert m["per_class"]["a"]["precision"] == pytest.approx(1.0)
    assert m["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["precision"] == pytest.approx(2 / 3)
    f1 = [2 * p * r / (p + r) for p, r in [(1, 0.75), (0.5, 0.5), (2 / 3, 1.0)]]
    assert m["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert m["confusion"] == [[3, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert m["confusion_normalized"][0] == pytest.approx([0.75, 0.25, 0.0])
    assert m["per_class"]["a"]["support"] == 4
    assert m["n"] == 8
    assert m["labels"] == LABELS


def test_class_absent_from_test_set_is_not_averaged_as_zero() -> None:
    y = [0, 0, 1, 1]
    m = classification_metrics(y, one_hot_probs([0, 0, 1, 1]), LABELS)
    assert m["macro_f1"] == pytest.approx(1.0)
    assert m["per_class"]["c"]["support"] == 0


def test_ece_by_hand() -> None:
    # Two clips at confidence 0.9 (one right), two at 0.6 (both right).
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    y = np.array([0, 1, 0, 0])
    ece, bins = expected_calibration_error(probs, y, n_bins=10)
    # bin 0.9: acc 0.5 conf 0.9 → 0.4 × 2/4 ; bin 0.6: acc 1 conf 0.6 → 0.4 × 2/4
    assert ece == pytest.approx(0.4)
    assert sum(b["count"] for b in bins) == 4


def test_perfectly_calibrated_is_zero() -> None:
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(probs, np.array([0, 1]))[0] == pytest.approx(0.0)


def test_shape_mismatch_and_empty_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="do not match"):
        classification_metrics([0, 1], np.zeros((3, 3)), LABELS)
    with pytest.raises(ValueError, match="empty"):
        classification_metrics([], np.zeros((0, 3)), LABELS)


def test_mean_std_over_folds() -> None:
    mean, std = mean_std([{"accuracy": 0.5}, {"accuracy": 0.7}])
    assert mean["accuracy"] == pytest.approx(0.6)
    assert std["accuracy"] == pytest.approx(0.1)


def test_count_mae_only_when_every_label_is_a_count() -> None:
    probs = np.eye(3)[[0, 2, 2, 1]]  # predictions 0, 2, 2, 1
    y = [0, 0, 2, 2]  # errors: 0, 2, 0, 1
    assert classification_metrics(y, probs, ["1", "2", "3"])["count_mae"] == 0.75
    words = classification_metrics(y, probs, ["0 speakers", "1 speaker", "5 speakers"])
    assert words["count_mae"] == (0 + 5 + 0 + 4) / 4
    assert "count_mae" not in classification_metrics(y, probs, ["1", "2", "angry"])
