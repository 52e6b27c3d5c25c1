"""How much ``--model auto``'s neural member counts in its ensemble, chosen on the
validation clips.

The plain product of the CNN's and the classical model's probabilities gains 7–9 points
on spoken words, where the two are about equally good, but on a small emotion corpus a
CNN trained from scratch is far weaker than the feature model and the product drags it
down (Emo-DB 0.806 against 0.840 for the classical member alone). The gap between their
held-out estimates does not tell the cases apart (on an FSDD fold the CNN's estimate was
0.756 against 0.953, and the product still won), so the weight is fitted instead: the
neural member's share ``w`` of the weighted geometric mean is the one of :data:`GRID` with
the best class-balanced log-likelihood on the validation clips, which neither member
trained on (the classical model is the fit on train alone). ``w`` 0 keeps the classical
member alone.

The weighting only ever takes weight away from the CNN, never gives it more than half:
the CNN picked its best epoch on these same clips, so its likelihood on them is
optimistic, and the validation voices may not be the voices it will serve. The
quickstart shows both: trained on synthetic voices, its CNN scored 1.000 on the
synthetic validation voices and a free weight went to 0.75 for the CNN, which took its
score on real human digits (FSDD) from 0.870 (equal weights) to 0.756 — the CNN alone
scores 0.585 there, the speech embedding 0.896. On the four benchmark protocols no fold
chose more than 0.5 (docs/benchmarks.md).

Log-likelihood rather than accuracy: the validation split of a small corpus is a few
voices, accuracy on it moves in steps of one clip and ties between weights, while the
likelihood also rewards being confidently right. Balanced over classes, like the
selection's UA, so a large class does not decide. A coarse grid, ties going to the
plain product (``w`` 0.5), because a finer fit to a few voices would follow their noise.

The CNN joins only when the validation clips show it helps: a share above 0 must raise
the likelihood over the classical member alone by more than :data:`Z` standard errors
of that gain (paired over the clips). Emo-DB's validation split is one voice of about 55
clips, where a gain of a few hundredths of a nat is noise; the CNN's share was 0.25 or
0.5 on every fold there, and on the same trained candidates the test accuracy was 0.845
with that rule against 0.861 for the classical member alone. With the test the folds
keep the classical member unless the CNN's gain is clear (0.857; FSDD's validation voice
has 500 clips, where the gains are clear). Measured in docs/benchmarks.md ("Weighting
auto's pair on the validation clips"); 1.645 is the usual one-sided 95 % level, not a
value tuned on those folds (z = 1 gave 0.845 on Emo-DB's).
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
