"""Long recordings: sliding windows over the voiced parts → time-stamped predictions.

Speech models find voice with silero-vad, music and environmental-sound models with an
energy detector (:mod:`audioclf.features.vad`). Windows without voice are reported but
not classified. The windows are scored :data:`CHUNK_WINDOWS` at a time, and a caller can
stop the work between chunks (``cancelled``: a client gone, a deadline passed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audioclf.features.vad import VAD_METHODS, VadMethod, voiced_regions
from audioclf.formats.runfolder import ModelCard
from audioclf.inference.predictor import Predictor

CHUNK_WINDOWS = 16
"""Windows scored per call; ``cancelled`` is checked between calls."""
NON_SPEECH_WORDS = ("music", "genre", "environment", "esc", "urban", "sound", "bird", "instrument")
MIN_VOICED_FRACTION = 0.1


class TimelineError(ValueError):
    """Bad timeline parameters (window, hop or VAD method)."""


class TimelineCancelledError(RuntimeError):
    """The caller stopped the timeline before every window was scored."""


@dataclass(frozen=True)
class Segment:
    """One window of the timeline; ``probabilities`` is None when it holds no voice."""

    start: float
    end: float
    voiced: bool
    probabilities: dict[str, float] | None
    top: str | None


def is_speech_model(card: ModelCard) -> bool:
    """True unless the run's task names music or environmental sounds."""
    task = (card.task or "").lower()
    return not any(word in task for word in NON_SPEECH_WORDS)


def default_vad(card: ModelCard) -> VadMethod:
    """silero for speech models, energy for the others."""
    return "silero" if is_speech_model(card) else "energy"


def windows(duration: float, window: float, hop: float) -> list[tuple[float, float]]:
    """Sliding (start, end) windows that together cover ``[0, duration]``."""
    if window <= 0 or hop <= 0:
        raise TimelineError(f"window ({window}) and hop ({hop}) must be positive")
    if hop > window:
        raise TimelineError(f"hop ({hop} s) must not exceed window ({window} s): gaps would appear")
    if duration <= 0:
        return []
    spans: list[tuple[float, float]] = []
    start = 0.0
    while True:
        end = min(start + window, duration)
        spans.append((round(start, 6), round(end, 6)))
        if end >= duration:
            return spans
        start += hop


def _scored(
    predictor: Predictor, chunks: list[np.ndarray], cancelled: Callable[[], bool] | None
) -> list[np.ndarray]:
    """Each chunk's probabilities, :data:`CHUNK_WINDOWS` chunks per call."""
    rows: list[np.ndarray] = []
    for start in range(0, len(chunks), CHUNK_WINDOWS):
        if cancelled is not None and cancelled():
            raise TimelineCancelledError(f"stopped after {start} of {len(chunks)} windows")
        rows.extend(predictor.predict_proba(chunks[start : start + CHUNK_WINDOWS]))
    return rows


def _overlap(span: tuple[float, float], regions: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(span[1], e) - max(span[0], s)) for s, e in regions)


def timeline(
    predictor: Predictor,
    y: np.ndarray,
    *,
    window: float = 2.0,
    hop: float = 1.0,
    vad: VadMethod | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Segment]:
    """Classify each voiced window of ``y`` (mono, at ``predictor.sample_rate``); raise
    :class:`TimelineCancelledError` as soon as ``cancelled()`` is true between chunks."""
    sr = predictor.sample_rate
    method: VadMethod = vad or default_vad(predictor.card)
    if method not in VAD_METHODS:
        raise TimelineError(f"unknown VAD method {method!r}; use one of {', '.join(VAD_METHODS)}")
    regions = voiced_regions(y, sr, method=method)
    spans = windows(len(y) / sr, window, hop)
    voiced = [
        _overlap(span, regions) >= MIN_VOICED_FRACTION * (span[1] - span[0]) for span in spans
    ]
    chunks = [y[int(s * sr) : int(e * sr)] for (s, e), v in zip(spans, voiced, strict=True) if v]
    probs = iter(_scored(predictor, chunks, cancelled))
    segments = []
    for span, is_voiced in zip(spans, voiced, strict=True):
        if not is_voiced:
            segments.append(Segment(span[0], span[1], False, None, None))
            continue
        p = next(probs)
        segments.append(
            Segment(
                span[0],
                span[1],
                True,
                {label: float(v) for label, v in zip(predictor.classes_, p, strict=True)},
                predictor.classes_[int(np.argmax(p))],
            )
        )
    return segments
