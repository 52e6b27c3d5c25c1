"""Classification metrics as pure functions over labels and probabilities.

Speech-emotion papers report WA (weighted accuracy = plain accuracy) and UA (unweighted
accuracy = balanced accuracy, the mean per-class recall); both are here, with macro
precision/recall/F1, a per-class table, confusion matrices and the expected
calibration error. scikit-learn computes what it can; ECE is a few lines of numpy.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)


def expected_calibration_error(
    probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15
) -> tuple[float, list[dict[str, float]]]:
    """ECE of the top-class confidence with equal-width bins, and the per-bin table.

    Each bin row has ``lower``, ``upper``, ``count``, ``confidence`` (mean top
    probability) and ``accuracy`` (fraction correct); empty bins have count 0.
    """
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    bins: list[dict[str, float]] = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        upper_ok = confidence <= hi if i == n_bins - 1 else confidence < hi
        mask = (confidence >= lo) & upper_ok
        count = int(mask.sum())
        conf = float(confidence[mask].mean()) if count else 0.0
        acc = float(correct[mask].mean()) if count else 0.0
        if count:
            ece += count / len(y_true) * abs(acc - conf)
        bins.append({"lower": lo, "upper": hi, "count": count, "confidence": conf, "accuracy": acc})
    return float(ece), bins


_COUNT_LABEL = re.compile(r"^\s*(\d+)(?:\s+[^\d\s]+)?\s*$")


def label_counts(labels: Sequence[str]) -> list[int] | None:
    """The integer each label names ("2", "2 speakers"), or None unless every label does:
    then the classes are counts and an error has a size (see ``count_mae``)."""
    matches = [_COUNT_LABEL.match(str(label)) for label in labels]
    if not labels or not all(matches):
        return None
    return [int(m.group(1)) for m in matches if m]


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
) -> dict[str, Any]:
    """All metrics of one evaluation, JSON-ready.

    ``y_true`` holds class indices into ``labels``; ``probs`` is (n, len(labels)).
    Keys: accuracy, balanced_accuracy, macro_precision, macro_recall, macro_f1, ece,
    per_class (label → precision/recall/f1/support), confusion (counts, rows = true),
    confusion_normalized (rows sum to 1), reliability (ECE bins), n, labels; and
    count_mae (mean absolute error of the predicted count) when every label is a count.
    """
    y = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or probs.shape != (len(y), len(labels)):
        raise ValueError(
            f"probabilities of shape {probs.shape} do not match {len(y)} clips "
            f"× {len(labels)} labels"
        )
    if len(y) == 0:
        raise ValueError("cannot compute metrics on an empty evaluation set")
    pred = probs.argmax(axis=1)
    index = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=index, zero_division=0
    )
    present = support > 0
    counts = confusion_matrix(y, pred, labels=index)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    ece, bins = expected_calibration_error(probs, y)
    counts_of = label_counts(labels)
    extra: dict[str, Any] = {}
    if counts_of is not None:
        values = np.asarray(counts_of)
        extra["count_mae"] = float(np.abs(values[pred] - values[y]).mean())
    return {
        "accuracy": float(accuracy_score(y, pred)),
        # Mean recall over the classes that occur in y_true (sklearn's definition).
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        # Macro averages over classes present in the evaluation set, so a test fold
        # missing a class does not count it as 0.
        "macro_precision": float(precision[present].mean()),
        "macro_recall": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
        "ece": ece,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": counts.tolist(),
        "confusion_normalized": normalized.round(6).tolist(),
        "reliability": bins,
        "n": len(y),
        "labels": list(labels),
    } | extra


SUMMARY_KEYS = (
    "accuracy",
    "balanced_accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "ece",
)


def mean_std(folds: Sequence[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation of each summary metric over folds."""
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    for key in SUMMARY_KEYS:
        values = np.array([fold[key] for fold in folds if key in fold], dtype=float)
        if len(values):
            mean[key] = float(values.mean())
            std[key] = float(values.std())
    return mean, std
