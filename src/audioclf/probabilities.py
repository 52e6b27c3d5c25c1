"""Rows of class probabilities: put in label order, combined by a geometric mean.

:func:`label_order_proba` gives a scikit-learn estimator's probabilities one column per
class of the run, whichever classes it saw in training. :func:`geometric_mean` is the
renormalised geometric mean (a product of experts). Late fusion
(:mod:`audioclf.models.fusion`) and ensembles of runs (:mod:`audioclf.inference.combine`)
combine probabilities this way: a class every part
finds likely wins over one only some of them favour. Probabilities are clipped at
``floor`` before the log (one part's zero must not veto a class outright), and the
largest mean log is subtracted before the exponential so that nothing underflows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

FLOOR = 1e-9


def geometric_mean(
    probs: np.ndarray,
    *,
    axis: int = 0,
    weights: Sequence[float] | None = None,
    floor: float = FLOOR,
) -> np.ndarray:
    """The (``weights``-weighted) geometric mean of ``probs`` over ``axis``, renormalised
    over the last axis (the classes), as float64."""
    stack = np.asarray(probs, dtype=np.float64)
    logs = np.average(np.log(np.clip(stack, floor, 1.0)), axis=axis, weights=weights)
    out = np.exp(logs - logs.max(axis=-1, keepdims=True))
    return np.asarray(out / out.sum(axis=-1, keepdims=True))


def label_order_proba(estimator: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    """``estimator.predict_proba(x)`` with one column per class index ``0..n_classes-1``
    (scikit-learn only has columns for the classes it saw; the others are 0)."""
    probs = estimator.predict_proba(x)
    out = np.zeros((len(x), n_classes), dtype=np.float32)
    out[:, np.asarray(estimator.classes_, dtype=np.int64)] = probs
    return out
