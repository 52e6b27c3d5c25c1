"""SpecAugment (Park et al. 2019): random time and frequency masks on a spectrogram.

Active only while the module is training; in eval mode, and therefore in an exported
ONNX graph, it is the identity. Random draws use torch's generator, so a run seeded with
``torch.manual_seed`` is reproducible.
"""

from __future__ import annotations

import torch
from torch import nn


class SpecAugment(nn.Module):
    """Mask ``freq_masks`` bands of up to ``freq_width`` bins and ``time_masks`` spans of up
    to ``time_width`` frames (never more than ``max_time_fraction`` of the clip per mask).

    Input and output ``(batch, bins, frames)`` or ``(batch, channels, bins, frames)``;
    each example gets its own masks, filled with that example's mean value (zero after
    per-utterance normalisation), so masking does not shift the input statistics.
    """

    def __init__(
        self,
        *,
        freq_masks: int = 2,
        freq_width: int = 8,
        time_masks: int = 2,
        time_width: int = 20,
        max_time_fraction: float = 0.2,
    ) -> None:
        super().__init__()
        if min(freq_masks, freq_width, time_masks, time_width) < 0:
            raise ValueError("SpecAugment mask counts and widths must be >= 0")
        if not 0 < max_time_fraction <= 1:
            raise ValueError(f"max_time_fraction={max_time_fraction} must be in (0, 1]")
        self.freq_masks = freq_masks
        self.freq_width = freq_width
        self.time_masks = time_masks
        self.time_width = time_width
        self.max_time_fraction = max_time_fraction

    def extra_repr(self) -> str:
        return (
            f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, "
            f"time_masks={self.time_masks}, time_width={self.time_width}"
        )

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Masked copy of ``spec`` in training; ``spec`` itself otherwise."""
        if not self.training or torch.onnx.is_in_onnx_export() or torch.jit.is_tracing():
            return spec
        batch, bins, frames = spec.shape[0], spec.shape[-2], spec.shape[-1]
        time_width = min(self.time_width, int(frames * self.max_time_fraction))
        freq = _band_mask(batch, bins, self.freq_masks, min(self.freq_width, bins), spec.device)
        time = _band_mask(batch, frames, self.time_masks, time_width, spec.device)
        mask = freq[:, :, None] | time[:, None, :]
        if spec.dim() == 4:
            mask = mask[:, None]
        fill = spec.mean(dim=tuple(range(1, spec.dim())), keepdim=True)
        return torch.where(mask, fill.expand_as(spec), spec)


def _band_mask(
    batch: int, size: int, count: int, max_width: int, device: torch.device
) -> torch.Tensor:
    """``(batch, size)`` bool: ``count`` random bands of width ``0..max_width`` per row."""
    if count == 0 or max_width == 0:
        return torch.zeros(batch, size, dtype=torch.bool, device=device)
    widths = torch.randint(0, max_width + 1, (batch, count, 1), device=device)
    starts = (torch.rand(batch, count, 1, device=device) * (size - widths + 1)).long()
    index = torch.arange(size, device=device)
    return ((index >= starts) & (index < starts + widths)).any(dim=1)
