"""Long recordings: voice-activity detection and sliding windows → time-stamped predictions.

Speech models use silero-vad (its ONNX model ships inside the ``silero-vad`` package, no
download); music and environmental-sound models use an energy detector (frame RMS against
an adaptive threshold). Windows without voice are reported but not classified.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import soxr

if TYPE_CHECKING:
    from audioclf.inference.predictor import Predictor
    from audioclf.train.runfolder import ModelCard

VadMethod = Literal["silero", "energy", "none"]
VAD_METHODS: tuple[str, ...] = ("silero", "energy", "none")
NON_SPEECH_WORDS = ("music", "genre", "environment", "esc", "urban", "sound", "bird", "instrument")
SILERO_RATE = 16_000
MIN_VOICED_FRACTION = 0.1

_silero_lock = threading.Lock()


class TimelineError(ValueError):
    """Bad timeline parameters (window, hop or VAD method)."""


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


@lru_cache(maxsize=1)
def _silero_model() -> Any:
    from silero_vad import load_silero_vad

    with warnings.catch_warnings():  # its importlib.resources.path call is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return load_silero_vad(onnx=True)


def _silero_regions(y: np.ndarray, sr: int) -> list[tuple[float, float]]:
    import torch
    from silero_vad import get_speech_timestamps

    y16 = y if sr == SILERO_RATE else soxr.resample(y, sr, SILERO_RATE).astype(np.float32)
    with _silero_lock:  # the model keeps recurrent state between chunks
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(y16, dtype=np.float32)),
            _silero_model(),
            sampling_rate=SILERO_RATE,
            return_seconds=True,
        )
    return [(float(s["start"]), float(s["end"])) for s in stamps]


def _energy_regions(
    y: np.ndarray, sr: int, *, frame_seconds: float = 0.03, min_gap: float = 0.15
) -> list[tuple[float, float]]:
    """Frames whose RMS is above an adaptive threshold, merged into regions."""
    frame = max(1, int(frame_seconds * sr))
    n = len(y) // frame
    if n == 0:
        return []
    frames = y[: n * frame].reshape(n, frame).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    floor, peak = float(np.percentile(db, 10)), float(db.max())
    threshold = max(-50.0, min(floor + 10.0, peak - 20.0))
    active = db > threshold
    regions: list[tuple[float, float]] = []
    for i in np.flatnonzero(active):
        start, end = i * frame / sr, (i + 1) * frame / sr
        if regions and start - regions[-1][1] <= min_gap:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return [(float(s), float(min(e, len(y) / sr))) for s, e in regions]


def voiced_regions(y: np.ndarray, sr: int, *, method: VadMethod) -> list[tuple[float, float]]:
    """(start, end) seconds of voice in mono ``y``; ``none`` treats the whole clip as voiced."""
    if method == "none":
        return [(0.0, len(y) / sr)] if len(y) else []
    if method == "silero":
        return _silero_regions(y, sr)
    if method == "energy":
        return _energy_regions(y, sr)
    raise TimelineError(f"unknown VAD method {method!r}; use one of {', '.join(VAD_METHODS)}")


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


def _overlap(span: tuple[float, float], regions: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(span[1], e) - max(span[0], s)) for s, e in regions)


def timeline(
    predictor: Predictor,
    y: np.ndarray,
    *,
    window: float = 2.0,
    hop: float = 1.0,
    vad: VadMethod | None = None,
) -> list[Segment]:
    """Classify each voiced window of ``y`` (mono, at ``predictor.sample_rate``)."""
    sr = predictor.sample_rate
    method: VadMethod = vad or default_vad(predictor.card)
    regions = voiced_regions(y, sr, method=method)
    spans = windows(len(y) / sr, window, hop)
    voiced = [
        _overlap(span, regions) >= MIN_VOICED_FRACTION * (span[1] - span[0]) for span in spans
    ]
    chunks = [y[int(s * sr) : int(e * sr)] for (s, e), v in zip(spans, voiced, strict=True) if v]
    probs = iter(predictor.predict_proba(chunks)) if chunks else iter(())
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
