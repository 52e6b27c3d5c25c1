"""2-D CNNs over a log-mel spectrogram computed inside the model.

The prototypes this project grows from classified music genre and speech emotion with
small stacks of conv3×3-BN-ReLU-maxpool blocks (``cnn2d_1``, ``cnn2d_2``, ``cnn2d_4``) and
with a LeNet-5 style network (``lenet``). Here the log-mel frontend and SpecAugment are
layers of the model, so it takes raw audio and exports to ONNX as one graph.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from audioclf.features.frontends import LogMel
from audioclf.features.specaugment import SpecAugment
from audioclf.models.registry import build, register_model


class MelInput(nn.Module):
    """Log-mel + optional VTLP and SpecAugment (both training only):
    ``(batch, samples)`` → ``(batch, 1, mels, frames)``."""

    def __init__(
        self,
        sample_rate: int,
        *,
        n_mels: int = 64,
        normalize: str = "utterance",
        specaugment: bool = False,
        f_max: float | None = None,
        vtlp: float = 0.0,
    ) -> None:
        super().__init__()
        self.logmel = LogMel(
            sample_rate, n_mels=n_mels, normalize=normalize, f_max=f_max, vtlp=vtlp
        )
        self.augment: nn.Module = SpecAugment() if specaugment else nn.Identity()
        self.n_mels = n_mels

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.augment(self.logmel(waveform)).unsqueeze(1)


def conv_block(c_in: int, c_out: int, pool: tuple[int, int] = (2, 2)) -> nn.Sequential:
    """conv3×3 → BN → ReLU → max-pool (``ceil_mode`` so short clips never pool to zero)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, ceil_mode=True),
    )


class MelCNN(nn.Module):
    """Conv blocks with ``channels`` over log-mel, global average pool, dropout, linear."""

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        channels: Sequence[int],
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
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(widths[-1], n_classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.blocks(self.frontend(waveform)).mean(dim=(2, 3))
        return self.classifier(self.dropout(x))


class LeNet(nn.Module):
    """LeNet-5 over log-mel: conv5×5(6)-pool-conv5×5(16)-pool, then per frame the 16
    maps × n_mels/4 bands are averaged over time and fed to FC 120 → FC 84 → classes.
    Averaging over time (not a fixed flatten) lets it take clips of any length."""

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
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
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(6, 16, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, ceil_mode=True),
        )
        bands = math.ceil(math.ceil(n_mels / 2) / 2)
        self.head = nn.Sequential(
            nn.Linear(16 * bands, 120),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, n_classes),
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.features(self.frontend(waveform)).mean(dim=3)
        return self.head(x.flatten(1))


def _mel_cnn(
    name: str, n_classes: int, sample_rate: int, options: dict[str, Any], channels: Sequence[int]
) -> nn.Module:
    return build(MelCNN, n_classes, sample_rate, options, name=name, channels=channels)


@register_model(
    "cnn2d_1",
    family="spectrogram",
    description="1 conv3x3-BN-ReLU-maxpool block over log-mel (32 ch)",
)
def cnn2d_1(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """One 32-channel conv block over 64-bin log-mel: the smallest spectrogram baseline."""
    return _mel_cnn("cnn2d_1", n_classes, sample_rate, options, (32,))


@register_model(
    "cnn2d_2",
    family="spectrogram",
    description="2 conv3x3-BN-ReLU-maxpool blocks over log-mel (32, 64 ch)",
)
def cnn2d_2(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """Two conv blocks (32, 64 channels) over 64-bin log-mel, as in the emotion prototype."""
    return _mel_cnn("cnn2d_2", n_classes, sample_rate, options, (32, 64))


@register_model(
    "cnn2d_4",
    family="spectrogram",
    description="4 conv3x3-BN-ReLU-maxpool blocks over log-mel (32-256 ch)",
)
def cnn2d_4(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """Four conv blocks (32, 64, 128, 256 channels) over 64-bin log-mel, as in the
    music-genre prototype."""
    return _mel_cnn("cnn2d_4", n_classes, sample_rate, options, (32, 64, 128, 256))


@register_model("lenet", family="spectrogram", description="LeNet-5 style CNN over log-mel")
def lenet(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """LeNet-5 (LeCun et al. 1998) adapted to a log-mel image of any width."""
    return build(LeNet, n_classes, sample_rate, options, name="lenet")
