"""Progress reports: a plan's steps, loops mapped into parts of a step, a fraction that
never goes down, and nothing at all without a watcher."""

from __future__ import annotations

from audioclf import progress
from audioclf.console import track


def _watched(work: object) -> list[progress.Progress]:
    seen: list[progress.Progress] = []
    with progress.watching(seen.append):
        work()  # type: ignore[operator]
    return seen


def test_steps_of_a_plan_share_the_whole() -> None:
    def work() -> None:
        progress.plan(2)
        progress.stage("candidate 1/2")
        progress.step(1, 2, "training")
        progress.stage("candidate 2/2")
        progress.step(2, 2, "training")

    seen = _watched(work)
    assert [(p.stage, p.fraction) for p in seen] == [
        ("candidate 1/2", 0.0),
        ("candidate 1/2 — training", 0.25),
        ("candidate 2/2", 0.5),
        ("candidate 2/2 — training", 1.0),
    ]


def test_parts_map_loops_into_a_share_of_the_step() -> None:
    def work() -> None:
        with progress.part(0.0, 0.2):
            progress.step(1, 1, "features")
        with progress.part(0.2, 0.9), progress.part(0.5, 1.0):
            progress.step(1, 2, "training")
        progress.step(0.95, 1, "testing")

    fractions = [round(p.fraction, 3) for p in _watched(work)]
    assert fractions == [0.2, round(0.2 + 0.7 * 0.75, 3), 0.95]


def test_the_fraction_never_goes_down_and_track_reports() -> None:
    def work() -> None:
        list(track(range(4), "decoding", enabled=False))
        progress.step(0, 4, "a new loop")

    seen = _watched(work)
    assert [p.fraction for p in seen] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert seen[0].stage == "decoding"


def test_reports_without_a_watcher_do_nothing() -> None:
    progress.plan(3)
    progress.stage("nobody listens")
    progress.step(1, 2)
    with progress.part(0, 1):
        pass
