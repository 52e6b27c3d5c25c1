"""A plain feed-forward network over clip-level MFCC statistics computed in the graph."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from audioclf.features.frontends import MFCC
from audioclf.models.registry import build, register_model


class MFCCStatsMLP(nn.Module):
    """MFCC + deltas + delta-deltas → mean and std over time → batch norm (a learned
    standardisation of the statistics) → hidden layers (ReLU, dropout) → linear.

    The classic "MFCC statistics into an MLP" baseline, but computed inside the model so
    it takes audio and exports to ONNX as one graph.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        n_mfcc: int = 40,
        hidden: Sequence[int] = (256, 256),
        dropout: float = 0.3,
        clip_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        self.n_classes, self.sample_rate, self.clip_seconds = n_classes, sample_rate, clip_seconds
        self.mfcc = MFCC(sample_rate, n_mfcc=n_mfcc, deltas=True)
        widths = [2 * self.mfcc.n_bins, *hidden]
        layers: list[nn.Module] = [nn.BatchNorm1d(widths[0])]
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU(inplace=True), nn.Dropout(dropout)]
        layers.append(nn.Linear(widths[-1], n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.mfcc(waveform)
        mean = x.mean(dim=2)
        std = torch.sqrt(((x - mean.unsqueeze(2)) ** 2).mean(dim=2) + 1e-5)
        return self.net(torch.cat([mean, std], dim=1))


@register_model(
    "mlp",
    family="dense",
    description="MLP (2x256) over mean/std of 40 MFCCs + deltas, computed in-graph",
)
def mlp(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """Two 256-unit hidden layers over 240 MFCC statistics."""
    return build(MFCCStatsMLP, n_classes, sample_rate, options, name="mlp")
