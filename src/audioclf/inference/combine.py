"""Combine several models' class probabilities into one row per clip.

``product`` is the renormalised (weighted) geometric mean: a class one member rules out
stays out; ``mean`` is (weighted) soft voting. An ensemble run's card names the rule and
the weights; :class:`audioclf.inference.predictor.Predictor` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from audioclf.probabilities import geometric_mean

Combine = Literal["product", "mean"]
COMBINES: tuple[Combine, ...] = ("product", "mean")


class EnsembleError(ValueError):
    """Runs that cannot be combined, and why."""


def check_weights(weights: Sequence[float] | None, n_members: int) -> list[float] | None:
    """``weights`` as a list that sums to 1, or None for equal weights; an
    :class:`EnsembleError` when they cannot weigh ``n_members`` members."""
    if weights is None:
        return None
    values = [float(w) for w in weights]
    if len(values) != n_members:
        raise EnsembleError(f"{len(values)} weights for {n_members} members; give one each")
    if any(not np.isfinite(w) or w < 0 for w in values) or sum(values) <= 0:
        raise EnsembleError(f"weights must be non-negative and not all zero, not {values}")
    total = sum(values)
    return [w / total for w in values]


def combine_probabilities(
    parts: Sequence[np.ndarray], how: Combine, weights: Sequence[float] | None = None
) -> np.ndarray:
    """Rows of class probabilities combined member by member (weighted by ``weights``,
    equal when None) and renormalised."""
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in parts])
    if how == "mean":
        out = np.average(stack, axis=0, weights=weights)
        out /= out.sum(axis=-1, keepdims=True)
    else:
        out = geometric_mean(stack, weights=weights, floor=1e-12)
    return out.astype(np.float32)
