"""The power mel spectrogram the voice encoder takes, in NumPy.

It is librosa's ``feature.melspectrogram`` with librosa's defaults (centred frames padded
with zeros, a periodic Hann window, power 2, Slaney's mel scale and area
normalisation) — one STFT and one matrix product. Written out here because calling
librosa for it loads numba and scipy, about 210 MB in every server process that serves
a voice-encoder model, for a computation of thirty lines; the tests check it against
librosa.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

BLOCK_FRAMES = 2048
"""Frames transformed at once (20 s of audio at a 10-ms hop)."""
_MIN_LOG_HZ = 1000.0
_HZ_PER_MEL = 200.0 / 3
_MIN_LOG_MEL = _MIN_LOG_HZ / _HZ_PER_MEL
_LOG_STEP = np.log(6.4) / 27.0
PadMode = Literal["constant", "reflect"]


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _HZ_PER_MEL
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _HZ_PER_MEL
    log = _MIN_LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log, linear)


@lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)`` triangular filters from 0 Hz to ``sr / 2``, each
    scaled to unit area (librosa's ``filters.mel`` with ``norm="slaney"``)."""
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    low, high = _hz_to_mel(np.array([0.0, sr / 2.0]))
    edges_hz = _mel_to_hz(np.linspace(low, high, n_mels + 2))
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


def power_mel(
    y: np.ndarray, sr: int, *, n_fft: int, hop: int, n_mels: int, pad_mode: PadMode = "constant"
) -> np.ndarray:
    """The power mel spectrogram of the mono waveform ``y``: ``(n_mels, frames)`` float32,
    frame ``t`` centred on sample ``t × hop``. The ends are padded with zeros (librosa's
    default) or, with ``pad_mode="reflect"``, mirrored (torch.stft's default, which
    Whisper's front end uses)."""
    y = np.asarray(y, dtype=np.float32)
    if pad_mode == "reflect" and len(y) <= n_fft // 2:
        raise ValueError(f"reflect padding needs more than {n_fft // 2} samples, got {len(y)}")
    padded = np.pad(y, n_fft // 2, mode=pad_mode)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
    filters = mel_filterbank(sr, n_fft, n_mels)
    out = np.empty((n_mels, len(frames)), dtype=np.float32)
    for start in range(0, len(frames), BLOCK_FRAMES):  # bounded memory for long clips
        block = frames[start : start + BLOCK_FRAMES] * window
        power = np.abs(np.fft.rfft(block, axis=1)) ** 2
        out[:, start : start + len(block)] = filters @ power.T
    return out
