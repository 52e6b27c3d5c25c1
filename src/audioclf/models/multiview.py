"""A classifier trained and scored on several views of every clip.

With ``speeds`` in a run's config (:mod:`audioclf.features.speed`), a clip's feature row
is ``views`` vectors one after the other: the clip itself, then the clip at each speed.
:class:`MultiView` wraps any scikit-learn classifier so that the rest of the code —
inner cross-validation, the validation probe, export, the Predictor — still sees one row
per clip:

* ``fit`` splits every row into its views and fits the wrapped classifier on all of
  them, each a training example with the clip's label (data augmentation);
* ``predict_proba`` scores every view and returns the mean of their probabilities
  (test-time augmentation), as the neural models average the crops of a long clip —
  or, with ``scored_views=1``, the clip itself only: the extra views then only enlarge
  the training set, and serving computes one view's features instead of all (``auto``
  drops the test-time views that do not earn their cost, docs/design.md). On
  Emo-DB the geometric mean scored the same (0.860 against 0.859); the arithmetic one is
  also what the exported graph computes in float32 without amplifying rounding near zero
  (a random forest's ONNX graph, whose near-zero probabilities differ from scikit-learn's
  by float32 rounding, moved by 5e-4 under a geometric mean).

The last ``train_only`` views of a row (noisy copies of the clip,
train/noise_views.py) are training examples only: they are never scored, and rows given
to ``predict_proba`` may leave them out.

Folds stay honest: a clip's views live in one row, so they are never split between
training and held-out parts.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from audioclf.models.shared_fits import fit_shared


class MultiView(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted on every view of every row; the probabilities of the first
    ``scored_views`` views (all that may be scored when None) averaged.

    Rows given to ``predict_proba`` hold all ``views``, the views that may be scored
    (all but the ``train_only`` ones), or just the scored ones (what a served model
    computes)."""

    def __init__(
        self,
        estimator: Any,
        views: int = 1,
        scored_views: int | None = None,
        train_only: int = 0,
    ) -> None:
        self.estimator = estimator
        self.views = views
        self.scored_views = scored_views
        self.train_only = train_only

    @property
    def scorable(self) -> int:
        """How many views of a clip may be scored: all but the training-only ones."""
        if not 0 <= self.train_only < self.views:
            raise ValueError(
                f"train_only must be in 0..{self.views - 1} (of {self.views} views), "
                f"got {self.train_only}"
            )
        return self.views - self.train_only

    @property
    def n_scored(self) -> int:
        """How many views of a clip are scored: the first ``scored_views``, or all that
        may be."""
        if self.scored_views is None:
            return self.scorable
        if not 1 <= self.scored_views <= self.scorable:
            raise ValueError(f"scored_views must be in 1..{self.scorable}, got {self.scored_views}")
        return self.scored_views

    def scoring(self, scored_views: int | None) -> MultiView:
        """This fitted model scoring the first ``scored_views`` views (a shallow copy
        sharing the fitted estimator)."""
        other = copy.copy(self)
        other.scored_views = scored_views
        return other

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
        self.dim_ = int(x.shape[2])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        x = np.asarray(X)
        n_views = x.shape[1] // self.dim_ if x.ndim == 2 else 0
        widths = sorted({self.views, self.scorable, self.n_scored}, reverse=True)
        if x.ndim != 2 or x.shape[1] % self.dim_ or n_views not in widths:
            raise ValueError(
                f"expected (n, views × {self.dim_}) features with "
                f"{' or '.join(map(str, widths))} views of a clip, got shape {x.shape}"
            )
        scored = x.reshape(len(x), n_views, self.dim_)[:, : self.n_scored]
        n, views, dim = scored.shape
        probs = self.estimator_.predict_proba(scored.reshape(-1, dim)).reshape(n, views, -1)
        return np.asarray(probs.mean(axis=1))

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])
