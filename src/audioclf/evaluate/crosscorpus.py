"""Cross-corpus scoring: test a model on clips whose labels it may not all know.

Train on RAVDESS, test on Emo-DB: after mapping the test corpus's labels onto the model's
(:func:`apply_label_map`), clips with a label the model has are scored with
:func:`~audioclf.evaluate.metrics.classification_metrics`; the rest are not dropped
silently but reported per label with what the model called them
(:func:`score_with_label_map`). Plain mappings only, so this module stands alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audioclf.evaluate.metrics import classification_metrics


class NoSharedLabelsError(ValueError):
    """None of the test clips has a label the model was trained on."""


def apply_label_map(labels: Sequence[str], mapping: Mapping[str, str | None]) -> list[str | None]:
    """Rename each label through ``mapping``; labels not in it stay as they are.

    A label mapped to ``None`` is dropped by the map: it comes back as ``None`` and
    :func:`score_with_label_map` counts it under ``dropped_by_map``.
    """
    return [mapping.get(label, label) for label in labels]


def score_with_label_map(
    true_labels: Sequence[str | None],
    probs: np.ndarray,
    model_labels: Sequence[str],
) -> dict[str, Any]:
    """Metrics on the clips whose (already mapped) label the model knows, plus an account of
    the others.

    ``probs`` is (n clips, len(model_labels)). Returns the keys of
    :func:`classification_metrics` computed on the known clips, and
    ``unknown_labels`` ({label: {"n": count, "predicted": {model label: count}}}),
    ``n_unknown``, ``n_scored``, ``dropped_by_map`` (clips whose label the map set to
    ``None``) and ``missing_labels`` (model classes with no test clip).
    Raises :class:`NoSharedLabelsError` when no clip can be scored.
    """
    probs = np.asarray(probs, dtype=float)
    model_labels = list(model_labels)
    if probs.ndim != 2 or probs.shape != (len(true_labels), len(model_labels)):
        raise ValueError(
            f"probabilities of shape {probs.shape} do not match {len(true_labels)} clips "
            f"× {len(model_labels)} model labels"
        )
    index = {label: i for i, label in enumerate(model_labels)}
    predicted = probs.argmax(axis=1) if len(model_labels) else np.zeros(0, dtype=int)
    known_rows: list[int] = []
    unknown: dict[str, Counter[str]] = {}
    dropped = 0
    for row, label in enumerate(true_labels):
        if label is None:
            dropped += 1
        elif label in index:
            known_rows.append(row)
        else:
            unknown.setdefault(label, Counter())[model_labels[int(predicted[row])]] += 1
    if not known_rows:
        seen = sorted(set(unknown))
        raise NoSharedLabelsError(
            f"none of the test labels {seen} is one the model knows ({model_labels}); "
            "map them onto the model's classes with a label map (--label-map MAP.yaml)"
        )
    y_true = [index[str(true_labels[row])] for row in known_rows]
    metrics = classification_metrics(y_true, probs[known_rows], model_labels)
    present = {true_labels[row] for row in known_rows}
    metrics |= {
        "unknown_labels": {
            label: {"n": sum(counts.values()), "predicted": dict(counts.most_common())}
            for label, counts in sorted(unknown.items())
        },
        "n_unknown": sum(sum(counts.values()) for counts in unknown.values()),
        "n_scored": len(known_rows),
        "dropped_by_map": dropped,
        "missing_labels": [label for label in model_labels if label not in present],
    }
    return metrics
