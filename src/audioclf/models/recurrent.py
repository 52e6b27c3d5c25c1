"""Convolutional-recurrent network: conv blocks over log-mel, then a BiLSTM over time."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from audioclf.models.registry import build, register_model
from audioclf.models.spectrogram import MelInput, conv_block


class CNNLSTM(nn.Module):
    """Conv blocks (each halving frequency and time) → the remaining frequency bands of
    every frame projected to ``hidden`` → BiLSTM → mean and max over time → linear.

    The convolutions learn local spectro-temporal patterns, the LSTM their order (useful
    for words and prosody); mean+max pooling keeps both the typical and the salient frame.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        channels: Sequence[int] = (32, 64, 128),
        hidden: int = 128,
        n_mels: int = 64,
        normalize: str = "utterance",
        specaugment: bool = False,
        dropout: float = 0.3,
        clip_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        self.n_classes, self.sample_rate, self.clip_seconds = n_classes, sample_rate, clip_seconds
        self.frontend = MelInput(
            sample_rate, n_mels=n_mels, normalize=normalize, specaugment=specaugment
        )
        widths = [1, *channels]
        self.blocks = nn.Sequential(*(conv_block(a, b) for a, b in itertools.pairwise(widths)))
        bands = n_mels
        for _ in channels:
            bands = math.ceil(bands / 2)
        self.project = nn.Sequential(nn.Linear(widths[-1] * bands, hidden), nn.ReLU(inplace=True))
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(4 * hidden, n_classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.blocks(self.frontend(waveform))  # (B, C, F, T)
        x = x.permute(0, 3, 1, 2).flatten(2)  # (B, T, C*F)
        x, _ = self.lstm(self.project(x))
        pooled = torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=1)
        return self.classifier(self.dropout(pooled))


@register_model(
    "cnn_lstm",
    family="recurrent",
    description="3 conv blocks over log-mel, BiLSTM over time, mean+max pooling",
)
def cnn_lstm(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """CNN-BiLSTM: conv blocks (32, 64, 128 channels) then a 128-unit BiLSTM."""
    return build(CNNLSTM, n_classes, sample_rate, options, name="cnn_lstm")
