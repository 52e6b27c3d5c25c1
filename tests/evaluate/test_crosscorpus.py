"""Cross-corpus scoring on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.evaluate.crosscorpus import (
    NoSharedLabelsError,
    apply_label_map,
    score_with_label_map,
)

MODEL = ["angry", "happy", "sad"]


def one_hot(indices: list[int], n: int = 3) -> np.ndarray:
    """Confident probabilities for the given predicted classes."""
    probs = np.full((len(indices), n), 0.1 / (n - 1))
    probs[np.arange(len(indices)), indices] = 0.9
    return probs


def test_apply_label_map_renames_keeps_and_drops() -> None:
    mapping = {"wut": "angry", "freude": "happy", "ekel": None}
    assert apply_label_map(["wut", "freude", "ekel", "sad"], mapping) == [
        "angry",
        "happy",
        None,
        "sad",
    ]


def test_known_clips_are_scored_unknown_reported_with_predictions() -> None:
    true = ["angry", "angry", "happy", "sad", "bored", "bored", "bored", None]
    # predictions: angry✓ happy✗ happy✓ sad✓ | bored→sad, sad, angry | dropped→angry
    probs = one_hot([0, 1, 1, 2, 2, 2, 0, 0])
    result = score_with_label_map(true, probs, MODEL)
    assert result["n_scored"] == 4
    assert result["n"] == 4
    assert result["accuracy"] == pytest.approx(3 / 4)
    # recalls: angry 1/2, happy 1/1, sad 1/1 → UA = 5/6
    assert result["balanced_accuracy"] == pytest.approx(5 / 6)
    assert result["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert result["n_unknown"] == 3
    assert result["unknown_labels"] == {"bored": {"n": 3, "predicted": {"sad": 2, "angry": 1}}}
    assert result["dropped_by_map"] == 1
    assert result["missing_labels"] == []


def test_missing_model_classes_are_listed() -> None:
    result = score_with_label_map(["angry", "happy"], one_hot([0, 0]), MODEL)
    assert result["missing_labels"] == ["sad"]
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["unknown_labels"] == {}
    assert result["n_unknown"] == 0


def test_no_shared_labels_is_an_actionable_error() -> None:
    with pytest.raises(NoSharedLabelsError, match="label map"):
        score_with_label_map(["wut", "trauer"], one_hot([0, 1]), MODEL)


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="do not match"):
        score_with_label_map(["angry"], one_hot([0, 1]), MODEL)
