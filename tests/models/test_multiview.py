"""MultiView: every view a training row; the views' probabilities averaged."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.models.classical import estimator_size, logreg
from audioclf.models.fusion import LateFusion
from audioclf.models.multiview import MultiView


def _data(views: int, dim: int = 5, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    centres = rng.standard_normal((3, dim)) * 2
    x = np.concatenate([centres[y] + rng.standard_normal((n, dim)) for _ in range(views)], axis=1)
    return x.astype(np.float32), y


def test_fit_uses_every_view_as_a_row() -> None:
    x, y = _data(views=3)
    wrapped = MultiView(logreg(3), views=3).fit(x, y)
    rows = x.reshape(len(x) * 3, 5)
    plain = logreg(3).fit(rows, np.repeat(y, 3))
    np.testing.assert_allclose(wrapped.estimator_[-1].coef_, plain[-1].coef_, atol=1e-6)
    assert list(wrapped.classes_) == [0, 1, 2]
    assert estimator_size(wrapped) == plain[-1].coef_.size + plain[-1].intercept_.size


def test_probabilities_are_the_mean_of_the_views() -> None:
    x, y = _data(views=2)
    wrapped = MultiView(logreg(3), views=2).fit(x, y)
    first = wrapped.estimator_.predict_proba(x[:, :5])
    second = wrapped.estimator_.predict_proba(x[:, 5:])
    expected = (first + second) / 2
    np.testing.assert_allclose(wrapped.predict_proba(x), expected, atol=1e-6)
    np.testing.assert_array_equal(wrapped.predict(x), expected.argmax(axis=1))


def test_one_view_is_the_wrapped_model() -> None:
    x, y = _data(views=1)
    wrapped = MultiView(logreg(3), views=1).fit(x, y)
    np.testing.assert_allclose(
        wrapped.predict_proba(x), logreg(3).fit(x, y).predict_proba(x), atol=1e-6
    )


def test_wraps_a_late_fusion() -> None:
    x, y = _data(views=2, dim=6)
    wrapped = MultiView(LateFusion([(2, logreg(3)), (4, logreg(3))]), views=2).fit(x, y)
    probs = wrapped.predict_proba(x)
    assert probs.shape == (40, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)


def test_rows_that_do_not_split_into_views_are_refused() -> None:
    x, y = _data(views=1, dim=5)
    with pytest.raises(ValueError, match=r"3 views of a clip"):
        MultiView(logreg(3), views=3).fit(x, y)
    with pytest.raises(ValueError, match="at least 1"):
        MultiView(logreg(3), views=0).fit(x, y)


def test_scoring_the_clip_alone_takes_one_view_or_all() -> None:
    x, y = _data(views=3)
    wrapped = MultiView(logreg(3), views=3).fit(x, y)
    alone = wrapped.scoring(1)
    expected = wrapped.estimator_.predict_proba(x[:, :5])
    # a served row holds the clip's own view only; a training row holds all three
    np.testing.assert_allclose(alone.predict_proba(x[:, :5]), expected, atol=1e-6)
    np.testing.assert_allclose(alone.predict_proba(x), expected, atol=1e-6)
    assert wrapped.scored_views is None  # scoring() copies; the fitted model is shared
    with pytest.raises(ValueError, match="views"):
        alone.predict_proba(x[:, :10])
    with pytest.raises(ValueError, match="scored_views"):
        _ = wrapped.scoring(4).n_scored


def test_training_only_views_train_but_are_never_scored() -> None:
    x, y = _data(views=4)
    wrapped = MultiView(logreg(3), views=4, train_only=2).fit(x, y)
    plain = logreg(3).fit(x.reshape(len(x) * 4, 5), np.repeat(y, 4))
    np.testing.assert_allclose(wrapped.estimator_[-1].coef_, plain[-1].coef_, atol=1e-6)
    assert wrapped.scorable == 2 and wrapped.n_scored == 2
    scored = (plain.predict_proba(x[:, :5]) + plain.predict_proba(x[:, 5:10])) / 2
    # rows with every view, or only the views that may be scored: the same answer
    np.testing.assert_allclose(wrapped.predict_proba(x), scored, atol=1e-6)
    np.testing.assert_allclose(wrapped.predict_proba(x[:, :10]), scored, atol=1e-6)
    alone = wrapped.scoring(1)
    np.testing.assert_allclose(alone.predict_proba(x[:, :5]), plain.predict_proba(x[:, :5]))
    with pytest.raises(ValueError, match="4 or 2 views"):
        wrapped.predict_proba(x[:, :15])
    with pytest.raises(ValueError, match=r"scored_views must be in 1\.\.2"):
        wrapped.scoring(3).predict_proba(x)
    with pytest.raises(ValueError, match=r"train_only must be in 0\.\.3"):
        _ = MultiView(logreg(3), views=4, train_only=4).scorable
