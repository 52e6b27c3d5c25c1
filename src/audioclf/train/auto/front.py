"""Which of ``auto``'s trained models a run serves: the accuracy-versus-latency front and
the rule that picks a point of it.

Every model ``auto`` trained — each candidate, the weighted pair, the distilled student —
is a point: its balanced accuracy (UA) on the validation speakers, the same clips for
every point, and its CPU latency per clip (``latency_ms``, measured the same way for
all). A point is on the front when no other point is both at least as accurate and at
least as fast (and better in one). The rules (``serve`` in the run config):

- ``fastest`` (the default): the fastest point whose UA is within ``tolerance`` (0.01)
  of the best — a model ten times cheaper to serve for a point less of accuracy is the
  better product on a small machine;
- with ``latency_budget`` (ms): the most accurate point that answers within it (the
  fastest one, said so, when none does);
- ``best``: the most accurate point, whatever it costs.

Ties in UA go to the faster point, ties in latency to the more accurate one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

ServeRule = Literal["fastest", "best"]
SERVE_RULES: tuple[ServeRule, ...] = ("fastest", "best")


class FrontError(ValueError):
    """No point can be chosen (none has both a validation score and a latency), or the
    rule is not one of :data:`SERVE_RULES`."""


@dataclass(frozen=True)
class Point:
    """One trained model: its name, validation UA and latency per clip."""

    name: str
    score: float
    latency_ms: float
    params: int | None = None


@dataclass(frozen=True)
class Choice:
    """The point served and why."""

    name: str
    reason: str


def on_front(points: Sequence[Point]) -> set[str]:
    """Names of the points that no other point dominates (at least as accurate and as
    fast, strictly better in one)."""

    def dominated(p: Point) -> bool:
        return any(
            q.score >= p.score
            and q.latency_ms <= p.latency_ms
            and (q.score > p.score or q.latency_ms < p.latency_ms)
            for q in points
        )

    return {p.name for p in points if not dominated(p)}


def choose(
    points: Sequence[Point],
    *,
    serve: ServeRule = "fastest",
    tolerance: float = 0.01,
    latency_budget: float | None = None,
) -> Choice:
    """The point to serve under the rule (module docstring)."""
    measured = list(points)
    if not measured:
        raise FrontError("no trained model has both a validation score and a latency")
    if serve not in SERVE_RULES:
        raise FrontError(f"serve must be one of {', '.join(SERVE_RULES)}, not {serve!r}")
    best = _most_accurate(measured)
    if serve == "best":
        return Choice(best.name, f"the best validation UA ({best.score:.3f})")
    if latency_budget is not None:
        within = [p for p in measured if p.latency_ms <= latency_budget]
        if not within:
            fastest = _fastest(measured)
            return Choice(
                fastest.name,
                f"no model answers within {latency_budget:g} ms; the fastest "
                f"({fastest.latency_ms:.1f} ms)",
            )
        pick = _most_accurate(within)
        return Choice(
            pick.name,
            f"the best validation UA ({pick.score:.3f}) within {latency_budget:g} ms "
            f"({pick.latency_ms:.1f} ms)",
        )
    floor = best.score - tolerance
    close = [p for p in measured if p.score >= floor - 1e-12]
    pick = _fastest(close)
    if pick.name == best.name:
        return Choice(
            pick.name,
            f"the best validation UA ({best.score:.3f}), and no model within {tolerance:g} "
            "of it is faster",
        )
    return Choice(
        pick.name,
        f"the fastest ({pick.latency_ms:.1f} ms against {best.latency_ms:.1f}) within "
        f"{tolerance:g} of the best validation UA ({pick.score:.3f} against {best.score:.3f}, "
        f"{best.name})",
    )


def front_rows(points: Sequence[Point], chosen: str) -> list[dict[str, Any]]:
    """The points as metrics.json records them: name, UA, latency, parameters, whether
    on the front and whether served."""
    front = on_front(points)
    return [
        {
            "model": p.name,
            "val_balanced_accuracy": p.score,
            "latency_ms": p.latency_ms,
            "params": p.params,
            "on_front": p.name in front,
            "served": p.name == chosen,
        }
        for p in points
    ]


def _most_accurate(points: Sequence[Point]) -> Point:
    return max(points, key=lambda p: (p.score, -p.latency_ms))


def _fastest(points: Sequence[Point]) -> Point:
    return min(points, key=lambda p: (p.latency_ms, -p.score))
