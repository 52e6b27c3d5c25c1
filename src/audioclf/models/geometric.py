"""The renormalised geometric mean of class probabilities (a product of experts).

Late fusion (:mod:`audioclf.models.fusion`) and ensembles of runs
(:mod:`audioclf.inference.ensemble`) combine probabilities this way: a class every part
finds likely wins over one only some of them favour. Probabilities are clipped at
``floor`` before the log (one part's zero must not veto a class outright), and the
largest mean log is subtracted before the exponential so that nothing underflows.
"""

from __future__ import annotations

from collections.abc import Sequence

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
