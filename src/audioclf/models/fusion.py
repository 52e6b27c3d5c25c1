"""Late fusion of classical models over complementary feature sets.

``fusion_logreg`` fits one logistic regression on the openSMILE ComParE functionals and
one on the MFCC/spectral statistics (:func:`~audioclf.features.handcrafted.pooled_stats`)
and multiplies their class probabilities (a product of experts: the geometric mean,
renormalised). The two sets see the voice differently — ComParE is dominated by
prosody, voice quality and spectral functionals, the pooled vector by the MFCC envelope —
and a class both find likely wins over one that only one of them favours.
``fusion_voice_logreg`` does the same with ComParE and the pretrained voice encoder's
statistics (:mod:`audioclf.features.voice_encoder`), the strongest pair we measured on the
emotion corpora.

scikit-learn's ``VotingClassifier(voting="soft")`` only averages probabilities
arithmetically, and needs a column selector in front of every expert; :class:`LateFusion`
fits each expert on its own block of columns and combines by ``product`` (the default)
or ``mean``, so the two can be compared on the same folds (docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from audioclf.features.handcrafted import POOLED_DIM
from audioclf.features.smile import DIMS
from audioclf.features.voice_encoder import DIM as VOICE_DIM
from audioclf.models.classical import estimator_size, logreg
from audioclf.models.registry import register_model
from audioclf.models.shared_fits import fit_shared
from audioclf.probabilities import geometric_mean

COMBINE = ("product", "mean")


class LateFusion(ClassifierMixin, BaseEstimator):
    """One estimator per consecutive block of columns; probabilities combined.

    ``experts`` is a list of ``(n_columns, estimator)``; the blocks must cover the input
    exactly. Every expert sees every class (they are fitted on the same rows).
    ``combine="product"`` takes the renormalised geometric mean of the experts'
    probabilities, ``"mean"`` their arithmetic mean.
    """

    def __init__(self, experts: Sequence[tuple[int, Any]], combine: str = "product") -> None:
        self.experts = experts
        self.combine = combine

    def _blocks(self, x: np.ndarray) -> list[np.ndarray]:
        widths = [width for width, _ in self.experts]
        if x.ndim != 2 or x.shape[1] != sum(widths):
            raise ValueError(
                f"expected (n, {sum(widths)}) features (blocks {widths}), got shape {x.shape}"
            )
        edges = np.cumsum([0, *widths])
        return [x[:, a:b] for a, b in itertools.pairwise(edges)]

    def fit(self, X: np.ndarray, y: np.ndarray) -> LateFusion:  # noqa: N803
        if self.combine not in COMBINE:
            raise ValueError(f"combine={self.combine!r}; use one of {', '.join(COMBINE)}")
        blocks = self._blocks(np.asarray(X))
        self.fitted_ = [
            fit_shared(clone(estimator), block, y)
            for block, (_, estimator) in zip(blocks, self.experts, strict=True)
        ]
        self.classes_ = self.fitted_[0].classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        blocks = self._blocks(np.asarray(X))
        probs = [
            expert.predict_proba(block) for expert, block in zip(self.fitted_, blocks, strict=True)
        ]
        if self.combine == "mean":
            return np.asarray(np.mean(probs, axis=0))
        return geometric_mean(np.stack(probs))

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])

    @property
    def coef_size(self) -> int:
        """Parameters over all experts, for the leaderboard."""
        return estimator_size(self)


def _compare_and(
    n_classes: int,
    width: int,
    other_c: float,
    *,
    compare_C: float,  # noqa: N803
    combine: str,
    random_state: int,
) -> LateFusion:
    """A logistic regression on the ComParE block, then one on the next ``width`` columns."""
    return LateFusion(
        [
            (DIMS["compare"], logreg(n_classes, C=compare_C, random_state=random_state)),
            (width, logreg(n_classes, C=other_c, random_state=random_state)),
        ],
        combine=combine,
    )


FUSION_INPUT = "compare+pooled"
"""ComParE functionals then the pooled MFCC/spectral statistics, concatenated."""


@register_model(
    "fusion_logreg",
    family="classical",
    input=FUSION_INPUT,
    description="Logistic regressions on ComParE functionals and on MFCC statistics, "
    "probabilities multiplied (extra 'smile')",
)
def fusion_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    compare_C: float = 0.01,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    pooled_C: float = 0.1,  # noqa: N803
    combine: str = "product",
    random_state: int = 0,
) -> LateFusion:
    """ComParE expert (``compare_C``, as ``compare_logreg``) × pooled-statistics expert
    (``pooled_C``); ``combine="mean"`` averages them instead."""
    return _compare_and(
        n_classes,
        POOLED_DIM,
        pooled_C,
        compare_C=compare_C,
        combine=combine,
        random_state=random_state,
    )


@register_model(
    "fusion_voice_logreg",
    family="classical",
    input="compare+voice_encoder",
    description="Logistic regressions on ComParE functionals and on a pretrained voice "
    "encoder's states, probabilities multiplied (extras 'smile', 'voice')",
)
def fusion_voice_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    compare_C: float = 0.01,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    voice_C: float = 0.1,  # noqa: N803
    combine: str = "product",
    random_state: int = 0,
) -> LateFusion:
    """ComParE expert (``compare_C``, as ``compare_logreg``) × voice-encoder expert
    (``voice_C``, as ``voice_logreg``); ``combine="mean"`` averages them instead."""
    return _compare_and(
        n_classes,
        VOICE_DIM,
        voice_C,
        compare_C=compare_C,
        combine=combine,
        random_state=random_state,
    )
