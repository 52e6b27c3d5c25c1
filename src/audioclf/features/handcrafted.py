"""Hand-crafted clip descriptors computed with librosa: one fixed-length vector per clip.

Two descriptors live here:

* :func:`issa_features` — the 193-value vector of Issa et al. (2020) that the Issa 1-D
  CNN (:mod:`audioclf.models.issa`) consumes;
* :func:`pooled_stats` — a compact, strong descriptor for the classical scikit-learn
  models (:mod:`audioclf.models.classical`): statistics over time of MFCCs, their deltas
  and a handful of spectral shape measures.

Both accept any clip length (very short clips are zero-padded up to one analysis window)
and silence, and never return NaN or infinity.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np

ISSA_N_MFCC = 50
ISSA_N_MELS = 50
ISSA_N_CHROMA = 80
ISSA_N_CONTRAST_BANDS = 6
ISSA_DIM = ISSA_N_MFCC + ISSA_N_MELS + ISSA_N_CHROMA + (ISSA_N_CONTRAST_BANDS + 1) + 6
"""Length of :func:`issa_features`: 50 + 50 + 80 + 7 + 6 = 193."""

POOLED_N_MFCC = 40
POOLED_SPECTRAL = ("centroid", "bandwidth", "rolloff", "flatness", "zcr", "log_rms")
POOLED_STATS = ("mean", "std", "min", "max")
POOLED_FRAME_DIM = 3 * POOLED_N_MFCC + len(POOLED_SPECTRAL)
POOLED_DIM = POOLED_FRAME_DIM * len(POOLED_STATS)
"""Length of :func:`pooled_stats`: (40 MFCC × 3 + 6 spectral) × 4 statistics = 504."""

_ISSA_N_FFT = 2048
_ISSA_HOP = 512
_CONTRAST_FMIN = 200.0
_EPS = 1e-10


def _as_mono(y: np.ndarray, min_samples: int) -> np.ndarray:
    """Mono float32, zero-padded at the end to at least ``min_samples``."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected a mono waveform (samples,), got shape {y.shape}")
    y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if len(y) < min_samples:
        y = np.pad(y, (0, min_samples - len(y)))
    return y


def _contrast_fmin(sr: int) -> float:
    """Lowest spectral-contrast band edge: librosa's 200 Hz unless 6 octave bands above it
    would pass Nyquist (e.g. at 16 kHz), then the largest edge that fits."""
    return min(_CONTRAST_FMIN, 0.95 * (sr / 2) / 2**ISSA_N_CONTRAST_BANDS)


def issa_features(y: np.ndarray, sr: int) -> np.ndarray:
    """The hand-crafted vector of Issa et al. (2020), shape ``(193,)`` float32.

    Time-means (librosa defaults: ``n_fft=2048``, ``hop_length=512``) of, in this order:

    * 50 MFCCs (from librosa's default 128-band log-mel),
    * 50 log-mel bands (``power_to_db`` of a 50-band mel power spectrogram),
    * 80 chroma bins (``chroma_stft`` with ``n_chroma=80``, A440 tuning assumed),
    * 7 spectral-contrast values (6 octave bands + the residual band; the lowest edge is
      lowered from 200 Hz when the 6 bands would otherwise pass Nyquist),
    * 6 tonnetz coordinates (from the harmonic part, as in the paper's code).

    This split (50 + 50 + 80 + 7 + 6 = 193) is the one fixed for audioclf. The paper
    ("Speech emotion recognition with deep convolutional neural networks", Biomedical
    Signal Processing and Control 59, 2020) reaches the same 193 with a different split —
    MFCC 40 + chroma 12 + mel 128 + contrast 7 + tonnetz 6 — so weights trained on the
    paper's vector are not interchangeable with these. Tonnetz is computed from a 12-bin
    STFT chroma of the harmonic component, which works at any sample rate (the CQT
    chroma of the paper's code needs more than 8 kHz of bandwidth).
    """
    y = _as_mono(y, _ISSA_N_FFT)
    stft = np.abs(librosa.stft(y, n_fft=_ISSA_N_FFT, hop_length=_ISSA_HOP))
    power = stft**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=ISSA_N_MELS)
    log_mel = librosa.power_to_db(mel)
    mfcc_mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=128)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mfcc_mel), n_mfcc=ISSA_N_MFCC)
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_chroma=ISSA_N_CHROMA, tuning=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # log of empty bands in silence; amin handles them
        contrast = librosa.feature.spectral_contrast(
            S=stft, sr=sr, n_bands=ISSA_N_CONTRAST_BANDS, fmin=_contrast_fmin(sr)
        )
    harmonic = librosa.effects.harmonic(y)
    harmonic_stft = np.abs(librosa.stft(harmonic, n_fft=_ISSA_N_FFT, hop_length=_ISSA_HOP))
    chroma12 = librosa.feature.chroma_stft(S=harmonic_stft**2, sr=sr, tuning=0.0)
    tonnetz = librosa.feature.tonnetz(chroma=chroma12, sr=sr)
    parts = [mfcc, log_mel, chroma, contrast, tonnetz]
    vector = np.concatenate([p.mean(axis=1) for p in parts]).astype(np.float32)
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)


def _frame_params(sr: int) -> tuple[int, int, int]:
    """Speech-style framing at any rate: 25 ms window, 10 ms hop, FFT a power of two."""
    win = max(16, round(0.025 * sr))
    hop = max(4, round(0.010 * sr))
    n_fft = 1 << (win - 1).bit_length()
    return n_fft, win, hop


def pooled_stats(y: np.ndarray, sr: int) -> np.ndarray:
    """Clip statistics for classical models, shape ``(POOLED_DIM,)`` = ``(504,)`` float32.

    Frame features (25 ms window, 10 ms hop): 40 MFCCs, their deltas and delta-deltas,
    spectral centroid, bandwidth and roll-off (as fractions of Nyquist), spectral
    flatness, zero-crossing rate and log RMS energy — 126 per frame. Each is summarised
    over time by mean, standard deviation, minimum and maximum (all the means first, then
    all the standard deviations, ...). Clips shorter than one window are zero-padded;
    silence gives finite values.
    """
    n_fft, win, hop = _frame_params(sr)
    y = _as_mono(y, n_fft)
    stft = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win))
    power = stft**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64, fmin=20.0)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=POOLED_N_MFCC)
    delta = librosa.feature.delta(mfcc, order=1, mode="nearest")
    delta2 = librosa.feature.delta(mfcc, order=2, mode="nearest")
    nyquist = sr / 2
    centroid = librosa.feature.spectral_centroid(S=stft, sr=sr) / nyquist
    bandwidth = librosa.feature.spectral_bandwidth(S=stft, sr=sr) / nyquist
    rolloff = librosa.feature.spectral_rolloff(S=stft, sr=sr) / nyquist
    flatness = librosa.feature.spectral_flatness(S=stft)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop)
    rms = librosa.feature.rms(S=stft, frame_length=n_fft, hop_length=hop)
    log_rms = np.log10(rms + 1e-5)
    frames = np.concatenate(
        [mfcc, delta, delta2, centroid, bandwidth, rolloff, flatness, zcr, log_rms],
        axis=0,
    ).astype(np.float64)
    frames = np.nan_to_num(frames, nan=0.0, posinf=0.0, neginf=0.0)
    stats = [frames.mean(axis=1), frames.std(axis=1), frames.min(axis=1), frames.max(axis=1)]
    vector = np.concatenate(stats).astype(np.float32)
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)
