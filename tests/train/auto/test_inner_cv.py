"""Inner grouped CV: no group on both sides of a fold, scores pooled over all clips."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from audioclf.train.auto.inner_cv import inner_cv_scores

LABELS = ["a", "b", "c"]


class Spy:
    """Predicts the label stored in column 1; records which clips (column 0) it saw."""

    seen: ClassVar[list[tuple[set[int], set[int]]]] = []

    def fit(self, x: np.ndarray, y: np.ndarray) -> Spy:
        self.train = {int(i) for i in x[:, 0]}
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        Spy.seen.append((self.train, {int(i) for i in x[:, 0]}))
        out = np.zeros((len(x), len(self.classes_)))
        for row, label in enumerate(x[:, 1].astype(int)):
            out[row, list(self.classes_).index(label)] = 1.0
        return out


class Majority:
    """Always the first class it saw."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Majority:
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), len(self.classes_)))
        out[:, 0] = 1.0
        return out


def _data(n_groups: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    y = np.tile(np.arange(3), 4 * n_groups)
    groups = [f"s{i % n_groups}" for i in range(len(y))]
    x = np.stack([np.arange(len(y)), y], axis=1).astype(float)
    return x, y, groups


def test_no_group_on_both_sides_and_every_clip_scored_once() -> None:
    x, y, groups = _data(6)
    Spy.seen = []
    scores = inner_cv_scores(Spy, x, y, groups, LABELS)
    assert scores["cv_folds"] == 5 and scores["cv_accuracy"] == 1.0
    tested: list[int] = []
    for train, test in Spy.seen:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        tested += sorted(test)
    assert sorted(tested) == list(range(len(y)))


def test_scores_are_pooled_metrics() -> None:
    x, y, groups = _data(4)
    scores: dict[str, Any] = inner_cv_scores(Majority, x, y, groups, LABELS)
    # always class "a": recall 1, 0, 0 → UA 1/3; a third of the clips are "a"
    assert scores["cv_folds"] == 4
    assert scores["cv_balanced_accuracy"] == pytest.approx(1 / 3)
    assert scores["cv_accuracy"] == pytest.approx(1 / 3)


def test_too_few_groups_give_no_estimate() -> None:
    x, y, groups = _data(2)
    assert inner_cv_scores(Majority, x, y, groups, LABELS) == {}


def test_folds_fitted_two_at_a_time_score_as_one_at_a_time() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from audioclf.evaluate.metrics import classification_metrics

    rng = np.random.default_rng(0)
    y = np.tile(np.arange(3), 40)
    groups = [f"s{i % 8}" for i in range(len(y))]
    x = rng.normal(size=(len(y), 20)) + y[:, None] * 0.4
    scores = inner_cv_scores(lambda: LogisticRegression(max_iter=500), x, y, groups, LABELS)
    probs = np.zeros((len(y), 3))
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(x, y, np.asarray(groups)):
        model = LogisticRegression(max_iter=500).fit(x[train_idx], y[train_idx])
        probs[test_idx] = model.predict_proba(x[test_idx])
    serial = classification_metrics(y, probs, LABELS)
    assert scores["cv_balanced_accuracy"] == pytest.approx(serial["balanced_accuracy"])
    assert scores["cv_accuracy"] == pytest.approx(serial["accuracy"])


def test_a_multiview_model_is_also_scored_on_the_clip_alone() -> None:
    from audioclf.models.classical import logreg
    from audioclf.models.multiview import MultiView

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 60)
    centres = rng.standard_normal((3, 4)) * 3
    own = centres[y] + rng.standard_normal((60, 4))
    # the extra views are noise: scoring them too can only blur the clip's own view
    x = np.concatenate([own, 5 * rng.standard_normal((60, 8))], axis=1).astype(np.float32)
    groups = [f"g{i % 6}" for i in range(60)]
    scores = inner_cv_scores(lambda: MultiView(logreg(3), views=3), x, y, groups, LABELS)
    assert scores["cv_balanced_accuracy_one_view"] > scores["cv_balanced_accuracy"]
    assert 0 <= scores["cv_accuracy_one_view"] <= 1
    plain = inner_cv_scores(lambda: logreg(3), own, y, groups, LABELS)
    assert "cv_balanced_accuracy_one_view" not in plain
