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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audioclf.inference.ensemble import combine_probabilities

# the neural member's share of the weighted geometric mean: up to an equal share
GRID = (0.0, 0.25, 0.5)
EQUAL = 0.5


@dataclass(frozen=True)
class PairWeight:
    """The chosen share of the neural member and the score of every share tried."""

    neural: float
    scores: dict[float, float]

    @property
    def classical(self) -> float:
        return 1.0 - self.neural


def balanced_log_likelihood(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean over the classes present of the mean log-probability given to the true class."""
    true = np.log(np.clip(probs[np.arange(len(targets)), targets], 1e-12, 1.0))
    return float(np.mean([true[targets == k].mean() for k in np.unique(targets)]))


def choose_pair_weight(
    neural: np.ndarray, classical: np.ndarray, targets: np.ndarray
) -> PairWeight:
    """The neural member's share from :data:`GRID` that scores the validation clips best
    (``neural``/``classical``: their probabilities, same rows and columns)."""
    if neural.shape != classical.shape or len(targets) != len(neural) or not len(targets):
        raise ValueError(
            f"validation predictions do not line up: {neural.shape}, {classical.shape}, "
            f"{len(targets)} targets"
        )
    scores = {
        w: balanced_log_likelihood(
            combine_probabilities([neural, classical], "product", [w, 1.0 - w]), targets
        )
        for w in GRID
    }
    best = max(GRID, key=lambda w: (round(scores[w], 6), -abs(w - EQUAL)))
    return PairWeight(best, scores)
