"""Spectrogram frontends as ``nn.Module``s, so they live inside a model and export to ONNX.

The STFT is a ``Conv1d`` whose fixed weights are the Hann-windowed DFT basis, and the
mel filterbank is ``librosa.filters.mel`` stored as a buffer: the exported graph takes
raw audio of any length (opset 17) and matches ``librosa.feature.melspectrogram`` with
``center=True, pad_mode="constant"``. Every frontend maps ``(batch, samples)`` float32 to
``(batch, bins, frames)`` with ``1 + samples // hop_length`` frames.
"""

from __future__ import annotations

import math

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audioclf.features.vtlp import FrequencyWarp

NORMALIZE_MODES = ("none", "utterance", "channel")
"""Per-utterance normalisation: none, one mean/std per clip, or per bin over time (CMVN)."""


class FrontendConfigError(ValueError):
    """A frontend parameter that cannot work, and which value to use instead."""


def _check_normalize(normalize: str) -> str:
    if normalize not in NORMALIZE_MODES:
        raise FrontendConfigError(
            f"normalize={normalize!r} is not one of {', '.join(NORMALIZE_MODES)}; "
            "use 'utterance' for gain invariance or 'channel' for per-bin mean/variance"
        )
    return normalize


def normalize_utterance(x: torch.Tensor, mode: str, eps: float = 1e-5) -> torch.Tensor:
    """Standardise ``(batch, bins, frames)`` per clip: ``utterance`` uses one mean and std
    over all bins and frames (a gain change is a constant shift of a log spectrum, so it
    cancels), ``channel`` one per bin over time (cepstral mean/variance normalisation)."""
    if mode == "none":
        return x
    dims = (1, 2) if mode == "utterance" else (2,)
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


class PowerSpectrogram(nn.Module):
    """``|STFT|²`` as a strided ``Conv1d`` with the windowed DFT basis as fixed weights.

    The kernel spans only the ``win_length`` non-zero window samples (not all ``n_fft``),
    which is exact and saves ``1 - win/n_fft`` of the work.
    """

    basis: torch.Tensor

    def __init__(
        self,
        sample_rate: int,
        *,
        n_fft: int | None = None,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
    ) -> None:
        super().__init__()
        self.win_length = round(sample_rate * win_ms / 1000)
        self.hop_length = round(sample_rate * hop_ms / 1000)
        self.n_fft = n_fft or 2 ** math.ceil(math.log2(self.win_length))
        if self.win_length < 2 or self.hop_length < 1 or self.n_fft < self.win_length:
            raise FrontendConfigError(
                f"window {self.win_length} / hop {self.hop_length} / n_fft {self.n_fft} samples "
                f"at {sample_rate} Hz cannot work; n_fft must be >= the window length"
            )
        self.n_freqs = self.n_fft // 2 + 1
        self.offset = (self.n_fft - self.win_length) // 2
        window = librosa.filters.get_window("hann", self.win_length, fftbins=True)
        n = np.arange(self.win_length) + self.offset
        k = np.arange(self.n_freqs)[:, None]
        phase = 2 * np.pi * k * n[None, :] / self.n_fft
        basis = np.concatenate([np.cos(phase) * window, -np.sin(phase) * window])
        self.register_buffer("basis", torch.from_numpy(basis[:, None, :].astype(np.float32)))
        self.pad_left = self.n_fft // 2 - self.offset
        self.pad_right = self.n_fft // 2 - (self.n_fft - self.win_length - self.offset)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_fft // 2 + 1, frames)`` power."""
        x = F.pad(waveform.unsqueeze(1), (self.pad_left, self.pad_right))
        spec = F.conv1d(x, self.basis, stride=self.hop_length)
        real, imag = spec[:, : self.n_freqs], spec[:, self.n_freqs :]
        return real * real + imag * imag


class Spectrogram(nn.Module):
    """Log-magnitude linear-frequency spectrogram ``log(|STFT| + log_offset)``."""

    def __init__(
        self,
        sample_rate: int,
        *,
        n_fft: int | None = None,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        log_offset: float = 1e-6,
        normalize: str = "none",
    ) -> None:
        super().__init__()
        self.stft = PowerSpectrogram(sample_rate, n_fft=n_fft, win_ms=win_ms, hop_ms=hop_ms)
        self.log_offset = log_offset
        self.normalize = _check_normalize(normalize)
        self.n_bins = self.stft.n_freqs

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_fft // 2 + 1, frames)``."""
        magnitude = torch.sqrt(self.stft(waveform) + 1e-12)
        return normalize_utterance(torch.log(magnitude + self.log_offset), self.normalize)


class LogMel(nn.Module):
    """Log mel power spectrogram ``log(mel @ |STFT|² + log_offset)``.

    Defaults: 25 ms Hann window, 10 ms hop, ``n_fft`` the next power of two (512 at
    16 kHz), 64 Slaney mel bands from ``f_min`` to ``f_max`` (Nyquist when ``None``).
    ``log=False`` returns the mel power itself (what ``librosa`` computes). ``vtlp`` > 0
    warps each training example's frequency axis by up to that fraction
    (:class:`~audioclf.features.vtlp.FrequencyWarp`; the identity in eval and ONNX).
    """

    mel_basis: torch.Tensor

    def __init__(
        self,
        sample_rate: int,
        *,
        n_fft: int | None = None,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        n_mels: int = 64,
        f_min: float = 0.0,
        f_max: float | None = None,
        log_offset: float = 1e-6,
        normalize: str = "none",
        log: bool = True,
        vtlp: float = 0.0,
    ) -> None:
        super().__init__()
        self.stft = PowerSpectrogram(sample_rate, n_fft=n_fft, win_ms=win_ms, hop_ms=hop_ms)
        self.warp: nn.Module = FrequencyWarp(vtlp) if vtlp > 0 else nn.Identity()
        f_max = sample_rate / 2 if f_max is None else f_max
        if not 0 <= f_min < f_max <= sample_rate / 2:
            raise FrontendConfigError(
                f"mel range {f_min}..{f_max} Hz is invalid at {sample_rate} Hz; "
                f"use 0 <= f_min < f_max <= {sample_rate / 2:g}"
            )
        mel = librosa.filters.mel(
            sr=sample_rate, n_fft=self.stft.n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max
        )
        self.register_buffer("mel_basis", torch.from_numpy(mel.astype(np.float32)))
        self.n_mels = self.n_bins = n_mels
        self.log_offset = log_offset
        self.normalize = _check_normalize(normalize)
        self.log = log

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_mels, frames)``."""
        mel = torch.matmul(self.mel_basis, self.warp(self.stft(waveform)))
        if not self.log:
            return mel
        return normalize_utterance(torch.log(mel + self.log_offset), self.normalize)


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n_out, n_in)``, as ``scipy.fft.dct(norm="ortho")``."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    matrix = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    matrix[0] /= np.sqrt(2.0)
    return matrix


class Deltas(nn.Module):
    """Regression deltas over time, ``d_t = Σ n (c_{t+n} - c_{t-n}) / (2 Σ n²)``, as a
    depthwise ``Conv1d`` with edge-replicated padding (same length out as in)."""

    kernel: torch.Tensor

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        n = torch.arange(-width, width + 1, dtype=torch.float32)
        self.register_buffer("kernel", (n / (n**2).sum()).view(1, 1, -1))  # Σ over ±n = 2 Σ n²
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, frames)`` → deltas of the same shape."""
        batch, channels, frames = x.shape
        flat = F.pad(x.reshape(-1, 1, frames), (self.width, self.width), mode="replicate")
        return F.conv1d(flat, self.kernel).reshape(batch, channels, frames)


class MFCC(nn.Module):
    """MFCCs (DCT-II of the log mel spectrogram), optionally with deltas and delta-deltas.

    Output ``(batch, n_mfcc * (3 if deltas else 1), frames)``; ``normalize`` applies to the
    stacked coefficients (``"channel"`` is classic CMVN).
    """

    dct: torch.Tensor

    def __init__(
        self,
        sample_rate: int,
        *,
        n_mfcc: int = 40,
        deltas: bool = True,
        n_mels: int = 64,
        n_fft: int | None = None,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        f_min: float = 0.0,
        f_max: float | None = None,
        log_offset: float = 1e-6,
        normalize: str = "none",
    ) -> None:
        super().__init__()
        if not 0 < n_mfcc <= n_mels:
            raise FrontendConfigError(f"n_mfcc={n_mfcc} must be between 1 and n_mels={n_mels}")
        self.logmel = LogMel(
            sample_rate,
            n_fft=n_fft,
            win_ms=win_ms,
            hop_ms=hop_ms,
            n_mels=n_mels,
            f_min=f_min,
            f_max=f_max,
            log_offset=log_offset,
        )
        self.register_buffer("dct", torch.from_numpy(dct_matrix(n_mfcc, n_mels).astype(np.float32)))
        self.delta = Deltas() if deltas else None
        self.normalize = _check_normalize(normalize)
        self.n_bins = n_mfcc * (3 if deltas else 1)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_bins, frames)``."""
        coeffs = torch.matmul(self.dct, self.logmel(waveform))
        if self.delta is not None:
            d1 = self.delta(coeffs)
            coeffs = torch.cat([coeffs, d1, self.delta(d1)], dim=1)
        return normalize_utterance(coeffs, self.normalize)
