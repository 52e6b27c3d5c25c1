"""Voice-activity detection: where in a clip someone is speaking (or a sound is).

Speech uses silero-vad (its ONNX model ships inside the ``silero-vad`` package, no
download); music and environmental sounds use an energy detector (frame RMS against an
adaptive threshold). ``none`` treats the whole clip as voiced.
"""

from __future__ import annotations

import threading
import warnings
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import soxr

VadMethod = Literal["silero", "energy", "none"]
VAD_METHODS: tuple[str, ...] = ("silero", "energy", "none")
SILERO_RATE = 16_000

_silero_lock = threading.Lock()


class VadError(ValueError):
    """An unknown voice-activity method."""


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
    raise VadError(f"unknown VAD method {method!r}; use one of {', '.join(VAD_METHODS)}")
