"""The stage clock: named, exclusive, per-context stage times."""

from __future__ import annotations

import threading
import time

import pytest

from audioclf import stages
from audioclf.stages import StageClock, measuring, scope, stage


class _Clock:
    """A perf_counter that moves only when a test says work was done, so sums are exact."""

    now = 0.0

    @classmethod
    def read(cls) -> float:
        return cls.now


def _busy(seconds: float) -> None:
    _Clock.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stages, "perf_counter", _Clock.read)


@pytest.mark.usefixtures("fake_clock")
def test_stages_are_summed_by_name_in_first_run_order() -> None:
    with measuring() as clock:
        for _ in range(3):
            with stage("features"):
                _busy(0.002)
            with stage("model"):
                _busy(0.001)
    totals = clock.totals()
    assert list(totals) == ["features", "model"]
    assert totals == pytest.approx({"features": 6.0, "model": 3.0})
    assert clock.total() == pytest.approx(9.0)


@pytest.mark.usefixtures("fake_clock")
def test_a_nested_stage_is_not_counted_twice() -> None:
    with measuring() as clock, stage("outer"):
        _busy(0.003)
        with stage("inner"):
            _busy(0.005)
        _busy(0.001)
    totals = clock.totals()
    assert totals == pytest.approx({"outer": 4.0, "inner": 5.0})  # outer: its own 3 + 1 ms


def test_scopes_prefix_the_names_inside_them() -> None:
    with measuring() as clock:
        with scope("1-cnn"), stage("model"):
            pass
        with scope("2-logreg"):
            with scope("views"), stage("pooled@0.9"):
                pass
            with stage("model"):
                pass
        with stage("combine"):
            pass
    assert list(clock.totals()) == [
        "1-cnn/model",
        "2-logreg/views/pooled@0.9",
        "2-logreg/model",
        "combine",
    ]


def test_nothing_is_recorded_without_an_open_clock() -> None:
    clock = StageClock()
    with stage("model"):
        pass
    with measuring(clock):
        pass
    with stage("after"):
        pass
    assert clock.totals() == {}


def test_a_stage_that_raises_is_still_timed() -> None:
    with measuring() as clock, pytest.raises(RuntimeError), stage("model"):
        raise RuntimeError("boom")
    assert "model" in clock.totals()


def test_concurrent_threads_see_only_their_own_stages() -> None:
    results: dict[str, dict[str, float]] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with measuring() as clock:
            barrier.wait()
            for _ in range(50):
                with stage(name):
                    time.sleep(0)
        results[name] = clock.totals()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert list(results["a"]) == ["a"] and list(results["b"]) == ["b"]


def test_one_clock_shared_by_threads_keeps_every_addition() -> None:
    clock = StageClock()

    def add() -> None:
        for _ in range(1000):
            clock.add("x", 1.0)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.totals() == {"x": 4000.0}


@pytest.mark.usefixtures("fake_clock")
def test_recorded_time_joins_its_stage_under_the_scope_and_leaves_the_outer_stage() -> None:
    stages.record("ignored", 5.0)  # no clock open: nothing to add to, no error
    with measuring() as clock, scope("m"), stage("outer"):
        _busy(0.004)
        stages.record("batch@1", 1.5)
        stages.record("batch@1", 0.5)
    assert clock.totals() == pytest.approx({"m/batch@1": 2.0, "m/outer": 2.0})
