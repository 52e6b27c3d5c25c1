"""CPU latency of a finished run: what one clip costs the deployed model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def measure_latency(
    run_dir: str | Path, *, seconds: float = 3.0, repeats: int = 20, warmup: int = 3
) -> float:
    """Median milliseconds for one clip of ``seconds`` through the run's :class:`Predictor`
    (ONNX Runtime when exported; preprocessing and crop averaging included), batch 1."""
    from audioclf.inference.predictor import Predictor

    predictor = Predictor(run_dir)
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(round(seconds * predictor.sample_rate))).astype(np.float32)
    for _ in range(warmup):
        predictor.predict_proba([clip], speakers=["latency"])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.predict_proba([clip], speakers=["latency"])
        times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1000, 3)
