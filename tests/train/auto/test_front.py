"""The serving rule on synthetic fronts: the fastest model within the tolerance of the
best, the best within a latency budget, or the best."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audioclf.train.auto.front import FrontError, Point, choose, front_rows, on_front

POINTS = [
    Point("pair", 0.860, 190.0),
    Point("compare_logreg", 0.853, 95.0),
    Point("student", 0.851, 3.0),
    Point("cnn", 0.800, 13.0),
    Point("slow_and_worse", 0.700, 400.0),
]


def test_the_fastest_model_within_the_tolerance_is_served() -> None:
    assert choose(POINTS, tolerance=0.01).name == "student"
    assert choose(POINTS, tolerance=0.008).name == "compare_logreg"
    assert choose(POINTS, tolerance=0.0).name == "pair"
    assert choose(POINTS, tolerance=0.1).name == "student"  # cnn is slower than the student


def test_a_latency_budget_serves_the_best_that_fits() -> None:
    assert choose(POINTS, latency_budget=100).name == "compare_logreg"
    assert choose(POINTS, latency_budget=10).name == "student"
    nothing_fits = choose(POINTS, latency_budget=1)
    assert nothing_fits.name == "student" and "no model answers within 1 ms" in nothing_fits.reason


def test_best_serves_the_most_accurate() -> None:
    assert choose(POINTS, serve="best").name == "pair"
    with pytest.raises(FrontError, match="serve must be one of"):
        choose(POINTS, serve="cheapest")  # type: ignore[arg-type]
    with pytest.raises(FrontError, match="no trained model"):
        choose([])


def test_the_front_holds_the_points_nothing_beats() -> None:
    assert on_front(POINTS) == {"pair", "compare_logreg", "student"}
    rows = {row["model"]: row for row in front_rows(POINTS, "student")}
    assert rows["student"]["served"] and not rows["pair"]["served"]
    assert not rows["cnn"]["on_front"] and not rows["slow_and_worse"]["on_front"]


points = st.lists(
    st.builds(
        Point,
        name=st.text(min_size=1, max_size=8),
        score=st.floats(0, 1),
        latency_ms=st.floats(0.1, 1000),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda p: p.name,
)


@given(points, st.floats(0, 0.2))
def test_the_choice_is_within_tolerance_and_nothing_close_is_faster(
    candidates: list[Point], tolerance: float
) -> None:
    chosen = next(p for p in candidates if p.name == choose(candidates, tolerance=tolerance).name)
    best = max(p.score for p in candidates)
    assert chosen.score >= best - tolerance - 1e-9
    assert all(p.latency_ms >= chosen.latency_ms for p in candidates if p.score >= best - tolerance)
    assert chosen.name in on_front(candidates)
