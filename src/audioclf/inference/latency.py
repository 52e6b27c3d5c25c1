"""CPU latency of a finished run: what one clip costs the deployed model."""

from __future__ import annotations

from pathlib import Path
from time import perf_counter

import numpy as np

from audioclf.inference.predictor import Predictor

MIN_REPEATS = 3


def measure_latency(
    run_dir: str | Path,
    *,
    seconds: float = 3.0,
    repeats: int = 20,
    warmup: int = 2,
    budget: float = 2.0,
) -> float:
    """Median milliseconds for one clip of ``seconds`` through the run's :class:`Predictor`
    (ONNX Runtime when exported; preprocessing and crop averaging included), batch 1.

    Up to ``repeats`` timed calls, but no more once ``budget`` seconds have been spent
    timing (at least :data:`MIN_REPEATS`): a classical model with speed views spends
    half a second a clip on features, and twenty calls of each `auto` candidate added
    half a minute to a fold."""
    predictor = Predictor(run_dir)
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(round(seconds * predictor.sample_rate))).astype(np.float32)
    for _ in range(warmup):
        predictor.predict_proba([clip], speakers=["latency"])
    times: list[float] = []
    while len(times) < repeats and (len(times) < MIN_REPEATS or sum(times) < budget):
        t0 = perf_counter()
        predictor.predict_proba([clip], speakers=["latency"])
        times.append(perf_counter() - t0)
    return round(float(np.median(times)) * 1000, 3)
