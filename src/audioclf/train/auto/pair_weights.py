"""How much ``--model auto``'s neural member counts in its ensemble, chosen on the
validation clips.

The pair is served as a weighted geometric mean of the two members' probabilities; the
neural member's share ``w`` is one of :data:`GRID` (at most half, never more: the CNN
picked its best epoch on these same clips, so its likelihood on them is optimistic).
:func:`choose_pair_weight` scores each ``w`` by the class-balanced log-likelihood of the
validation clips, which neither member trained on (the classical member's predictions come
from its fit on train alone). A share above 0 counts only if its gain over the classical
member alone exceeds :data:`Z` standard errors of that gain, paired over the clips; among
those, the best score wins (ties to the plain product, ``w`` 0.5), and if none clears the
bar, ``w`` is 0 and the classical member is kept alone.

Why log-likelihood, why this grid and this bar, and what it changed on the benchmark
folds: docs/design.md ("``--model auto``") and docs/benchmarks.md ("Weighting auto's pair
on the validation clips").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audioclf.inference.combine import combine_probabilities

# the neural member's share of the weighted geometric mean: up to an equal share
GRID = (0.0, 0.25, 0.5)
EQUAL = 0.5
Z = 1.645
"""A share above 0 must beat the classical member alone by this many standard errors
(one-sided 95 %)."""


@dataclass(frozen=True)
class PairWeight:
    """The chosen share of the neural member, the score of every share tried, and for
    each positive share its gain over the classical member alone and that gain's
    standard error (both in the units of :func:`balanced_log_likelihood`)."""

    neural: float
    scores: dict[float, float]
    gains: dict[float, tuple[float, float]] = field(default_factory=dict)

    @property
    def classical(self) -> float:
        return 1.0 - self.neural


def _true_class_log(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs[np.arange(len(targets)), targets], 1e-12, 1.0))


def _class_balance(targets: np.ndarray) -> np.ndarray:
    """Per-clip weights (summing to 1) that give every class present the same total."""
    classes, index, counts = np.unique(targets, return_inverse=True, return_counts=True)
    return np.asarray(1.0 / (len(classes) * counts[index]))


def balanced_log_likelihood(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean over the classes present of the mean log-probability given to the true class."""
    return float(np.sum(_class_balance(targets) * _true_class_log(probs, targets)))


def balanced_gain(better: np.ndarray, base: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """How much more balanced log-likelihood ``better`` gives the clips than ``base``, and
    the standard error of that difference (paired over the clips, class-balanced)."""
    weight = _class_balance(targets)
    diff = _true_class_log(better, targets) - _true_class_log(base, targets)
    mean = float(np.sum(weight * diff))
    return mean, float(np.sqrt(np.sum(weight**2 * (diff - mean) ** 2)))


def choose_pair_weight(
    neural: np.ndarray, classical: np.ndarray, targets: np.ndarray, *, z: float = Z
) -> PairWeight:
    """The neural member's share for the validation clips (``neural``/``classical``: their
    probabilities, same rows and columns): the share of :data:`GRID` with the best score
    among those whose gain over the classical member alone exceeds ``z`` standard
    errors, or 0 when none does. Ties go to the share closer to :data:`EQUAL`."""
    if neural.shape != classical.shape or len(targets) != len(neural) or not len(targets):
        raise ValueError(
            f"validation predictions do not line up: {neural.shape}, {classical.shape}, "
            f"{len(targets)} targets"
        )
    mixed = {w: combine_probabilities([neural, classical], "product", [w, 1.0 - w]) for w in GRID}
    scores = {w: balanced_log_likelihood(mixed[w], targets) for w in GRID}
    gains = {w: balanced_gain(mixed[w], classical, targets) for w in GRID if w > 0}
    # float32 probabilities: a gain under 1e-6 nats is rounding, whatever its spread
    clear = [0.0, *(w for w, (gain, se) in gains.items() if gain > max(z * se, 1e-6))]
    best = max(clear, key=lambda w: (round(scores[w], 6), -abs(w - EQUAL)))
    return PairWeight(best, scores, gains)
