"""Vocal tract length perturbation (Jaitly & Hinton 2013) on a power spectrogram.

A speaker's vocal tract length scales the frequencies of their formants by roughly a
constant factor, which is why a model trained on five voices struggles with the sixth.
VTLP warps each training example's frequency axis by its own random factor ``alpha`` in
``[1 - max_warp, 1 + max_warp]``: a bin at ``f`` takes the energy found at ``f / alpha``
below a boundary frequency, and a straight line maps the boundary to Nyquist above it,
so the band edge stays where it is (the piecewise-linear warp of the paper).

It works on the linear-frequency power spectrum, before the mel filterbank, costs one
gather per batch (far cheaper than resampling the waveform for a pitch shift) and, like
SpecAugment, is active only while training: in eval mode and in an exported ONNX graph
it is the identity.
"""

from __future__ import annotations

import torch
from torch import nn


class FrequencyWarp(nn.Module):
    """Warp ``(batch, bins, frames)`` power spectra along the bins, one factor per example.

    ``boundary`` is the fraction of Nyquist up to which the warp is a pure scaling.
    """

    def __init__(self, max_warp: float = 0.1, boundary: float = 0.8) -> None:
        super().__init__()
        if not 0 <= max_warp < 0.5:
            raise ValueError(f"max_warp={max_warp} must be in [0, 0.5)")
        if not 0 < boundary < 1:
            raise ValueError(f"boundary={boundary} must be in (0, 1)")
        self.max_warp = max_warp
        self.boundary = boundary

    def extra_repr(self) -> str:
        return f"max_warp={self.max_warp}, boundary={self.boundary}"

    def source_bins(self, alpha: torch.Tensor, bins: int) -> torch.Tensor:
        """``(batch, bins)`` fractional source bin of every output bin for factors ``alpha``."""
        nyquist = float(bins - 1)
        k = torch.arange(bins, dtype=alpha.dtype, device=alpha.device)[None, :]
        alpha = alpha[:, None]
        # The output bin where the scaling part ends: the boundary, moved down for alpha > 1
        # so the source stays inside the spectrum (f_hi * min(alpha, 1) / alpha, as in VTLP).
        knee = self.boundary * nyquist * torch.clamp(alpha, max=1.0)
        source_knee = knee / alpha
        scaled = k / alpha
        upper = source_knee + (k - knee) * (nyquist - source_knee) / (nyquist - knee)
        return torch.where(k <= knee, scaled, upper).clamp(0.0, nyquist)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        """A warped copy of ``power`` in training; ``power`` itself otherwise."""
        if (
            not self.training
            or self.max_warp == 0
            or torch.onnx.is_in_onnx_export()
            or torch.jit.is_tracing()
        ):
            return power
        batch, bins = power.shape[0], power.shape[-2]
        alpha = 1.0 + (torch.rand(batch, device=power.device) * 2 - 1) * self.max_warp
        source = self.source_bins(alpha.to(power.dtype), bins)
        low = source.floor().long().clamp(max=bins - 2)
        frac = (source - low.to(source.dtype))[..., None]
        below = torch.gather(power, 1, low[..., None].expand(-1, -1, power.shape[-1]))
        above = torch.gather(power, 1, (low + 1)[..., None].expand(-1, -1, power.shape[-1]))
        return below + frac * (above - below)
