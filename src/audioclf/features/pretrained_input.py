"""The waveform the pretrained front ends take (the speech embedding, the voice encoder):
finite float32 mono at the network's sample rate, and at least a minimum length."""

from __future__ import annotations

import numpy as np

from audioclf.features.crops import center_crop


def mono_at(y: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """``y`` as finite float32 mono samples at ``rate`` (resampled with soxr if needed)."""
    y = np.nan_to_num(np.asarray(y, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if y.ndim != 1:
        raise ValueError(f"expected a mono waveform (samples,), got shape {y.shape}")
    if sr != rate:
        import soxr

        y = soxr.resample(y, sr, rate).astype(np.float32)
    return y


def at_least(y: np.ndarray, n_samples: int) -> np.ndarray:
    """``y`` unchanged, or centred in silence when shorter than ``n_samples``."""
    return y if len(y) >= n_samples else center_crop(y, n_samples)
