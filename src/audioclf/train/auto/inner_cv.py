"""How well a classical model does on voices it has not heard, estimated from the training
clips alone: grouped k-fold cross-validation inside train + validation.

``auto`` judges its classical candidates by it rather than by the validation split, which
on a small corpus is one or two voices (docs/design.md, "``--model auto``"). Classical
models fit in seconds, so they can afford k fits on the speakers they train on
(scikit-learn's ``StratifiedGroupKFold``: no speaker on both sides of an inner fold,
classes balanced across folds). The test split is never touched.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from audioclf.evaluate.metrics import classification_metrics
from audioclf.features.cache import WORKERS
from audioclf.models.multiview import MultiView
from audioclf.models.shared_fits import fit_shared
from audioclf.probabilities import label_order_proba
from audioclf.train.classical import ONE_VIEW_KEYS

INNER_FOLDS = 5
MIN_GROUPS = 3
CV_KEYS = ("cv_accuracy", "cv_balanced_accuracy")


def inner_cv_scores(
    make: Callable[[], Any],
    x: np.ndarray,
    y: np.ndarray,
    groups: Sequence[str],
    labels: list[str],
    *,
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy and balanced accuracy of fresh ``make()`` estimators over grouped folds
    (``cv_folds`` of them, at most :data:`INNER_FOLDS`), pooled over all clips; empty when
    there are fewer than :data:`MIN_GROUPS` groups to fold. For a :class:`MultiView`
    model the same fits also score the clip itself alone
    (:data:`audioclf.train.classical.ONE_VIEW_KEYS`), what
    serving it without test-time views would reach."""
    n_groups = len(set(groups))
    if n_groups < MIN_GROUPS:
        return {}
    k = min(INNER_FOLDS, n_groups)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    probs = np.zeros((len(y), len(labels)), dtype=np.float32)
    one_view = np.zeros_like(probs)
    with warnings.catch_warnings():
        # a class with fewer clips than folds is fine here: its clips land where they can
        warnings.filterwarnings("ignore", message=".*least populated class.*")
        folds = list(splitter.split(x, y, np.asarray(groups)))

    def fit_fold(
        fold: tuple[np.ndarray, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        train_idx, test_idx = fold
        estimator = fit_shared(make(), x[train_idx], y[train_idx])
        held_out = x[test_idx]
        alone = (
            label_order_proba(estimator.scoring(1), held_out, len(labels))
            if isinstance(estimator, MultiView) and estimator.scorable > 1
            else None
        )
        return test_idx, label_order_proba(estimator, held_out, len(labels)), alone

    # The folds are independent fits: two at a time, each with one BLAS thread, instead of
    # one at a time with two (L-BFGS on a few thousand rows keeps a second BLAS thread
    # mostly idle). The same fits; only BLAS's summation order changes (~1e-9).
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(fit_fold, folds))
    for test_idx, fold_probs, alone in results:
        probs[test_idx] = fold_probs
        if alone is not None:
            one_view[test_idx] = alone
    scores = classification_metrics(y, probs, labels)
    out = {
        "cv_accuracy": float(scores["accuracy"]),
        "cv_balanced_accuracy": float(scores["balanced_accuracy"]),
        "cv_folds": k,
    }
    if all(alone is not None for *_, alone in results):
        alone_scores = classification_metrics(y, one_view, labels)
        out[ONE_VIEW_KEYS[0]] = float(alone_scores["accuracy"])
        out[ONE_VIEW_KEYS[1]] = float(alone_scores["balanced_accuracy"])
    return out
