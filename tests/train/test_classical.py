"""Which views a classical run serves: all of them, or the clip alone when the others do
not earn their cost on held-out voices."""

from __future__ import annotations

from audioclf.train.classical import VIEW_GAIN, served_views

ESTIMATE = {"cv_accuracy": 0.80, "cv_balanced_accuracy": 0.78, "cv_folds": 5}


def test_views_that_add_less_than_the_gain_are_not_served() -> None:
    held_out = ESTIMATE | {
        "cv_accuracy_one_view": 0.79,
        "cv_balanced_accuracy_one_view": 0.78 - VIEW_GAIN / 2,
    }
    scores, scored = served_views(held_out, 3)
    assert scored == 1
    # the estimate now describes the served model; the all-views figures are kept
    assert scores["cv_balanced_accuracy"] == held_out["cv_balanced_accuracy_one_view"]
    assert scores["cv_accuracy"] == 0.79
    assert scores["cv_balanced_accuracy_all_views"] == 0.78
    assert "cv_balanced_accuracy_one_view" not in scores


def test_views_that_earn_their_cost_are_served() -> None:
    held_out = ESTIMATE | {
        "cv_accuracy_one_view": 0.75,
        "cv_balanced_accuracy_one_view": 0.78 - 2 * VIEW_GAIN,
    }
    scores, scored = served_views(held_out, 3)
    assert scored == 3
    assert scores["cv_balanced_accuracy"] == 0.78
    assert scores["test_time_views_gain"] == round(2 * VIEW_GAIN, 4)


def test_without_a_one_view_estimate_every_view_is_served() -> None:
    assert served_views(dict(ESTIMATE), 3) == (ESTIMATE, 3)
    assert served_views({}, 1) == ({}, 1)
