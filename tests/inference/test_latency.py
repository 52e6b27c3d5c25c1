"""Latency: the median of timed calls, with a cap on the time spent timing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioclf.inference import latency


class _FakePredictor:
    """Counts calls; the fake clock below decides how long each one takes."""

    calls = 0

    def __init__(self, run_dir: Any) -> None:
        self.sample_rate = 16_000

    def predict_proba(self, waves: list[np.ndarray], **_: Any) -> np.ndarray:
        _FakePredictor.calls += 1
        return np.zeros((len(waves), 2))


def _clock(step: float) -> Iterator[float]:
    now = 0.0
    while True:
        yield now
        now += step


@pytest.mark.parametrize(
    ("step", "timed"),
    [(0.01, 20), (0.5, 4), (5.0, latency.MIN_REPEATS)],
    ids=["fast: every repeat", "slow: until the budget", "very slow: the minimum"],
)
def test_timed_calls_stop_at_the_budget(
    monkeypatch: pytest.MonkeyPatch, step: float, timed: int
) -> None:
    # each timed call reads the clock twice: `step` apart
    ticks = _clock(step)
    monkeypatch.setattr(latency, "perf_counter", lambda: next(ticks))
    monkeypatch.setattr(latency, "Predictor", _FakePredictor)
    _FakePredictor.calls = 0
    ms = latency.measure_latency(Path("run"), repeats=20, warmup=2, budget=2.0)
    assert _FakePredictor.calls == 2 + timed
    assert ms == pytest.approx(step * 1000)
