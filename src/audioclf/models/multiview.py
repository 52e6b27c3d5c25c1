"""A classifier trained and scored on several views of every clip.

With ``speeds`` in a run's config (:mod:`audioclf.features.speed`), a clip's feature row
is ``views`` vectors one after the other: the clip itself, then the clip at each speed.
:class:`MultiView` wraps any scikit-learn classifier so that the rest of the code —
inner cross-validation, the validation probe, export, the Predictor — still sees one row
per clip:

* ``fit`` splits every row into its views and fits the wrapped classifier on all of
  them, each a training example with the clip's label (data augmentation);
* ``predict_proba`` scores every view and returns the mean of their probabilities
  (test-time augmentation), as the neural models average the crops of a long clip. On
  Emo-DB the geometric mean scored the same (0.860 against 0.859); the arithmetic one is
  also what the exported graph computes in float32 without amplifying rounding near zero
  (a random forest's ONNX graph, whose near-zero probabilities differ from scikit-learn's
  by float32 rounding, moved by 5e-4 under a geometric mean).

Folds stay honest: a clip's views live in one row, so they are never split between
training and held-out parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from audioclf.models.shared_fits import fit_shared


class MultiView(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted on every view of every row; views' probabilities averaged."""

    def __init__(self, estimator: Any, views: int = 1) -> None:
        self.estimator = estimator
        self.views = views

    def _split(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """``(n, views × dim)`` → ``(n, views, dim)``."""
        x = np.asarray(X)
        if self.views < 1:
            raise ValueError(f"views must be at least 1, got {self.views}")
        if x.ndim != 2 or x.shape[1] % self.views:
            raise ValueError(
                f"expected (n, {self.views} × dim) features ({self.views} views of a clip), "
                f"got shape {x.shape}"
            )
        return x.reshape(len(x), self.views, x.shape[1] // self.views)

    def fit(self, X: np.ndarray, y: np.ndarray) -> MultiView:  # noqa: N803
        x = self._split(X)
        rows = x.reshape(-1, x.shape[2])
        targets = np.repeat(np.asarray(y), self.views)
        self.estimator_ = fit_shared(clone(self.estimator), rows, targets)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        x = self._split(X)
        n, views, dim = x.shape
        probs = self.estimator_.predict_proba(x.reshape(-1, dim)).reshape(n, views, -1)
        return np.asarray(probs.mean(axis=1))

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])
