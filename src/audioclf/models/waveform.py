"""Raw-waveform CNNs of Dai et al. (2017), "Very deep convolutional neural networks for raw
waveforms" (ICASSP, arXiv:1610.00087): M3, M5, M11, M18 and M34-res.

All share one shape: a first convolution with a large receptive field (80 samples at
8 kHz, i.e. 10 ms, scaled with the sample rate; stride 4), then stages of 3-tap
convolutions with batch norm and ReLU, 4× max-pooling between stages, global average
pooling over time and one linear layer. There are no fully connected hidden layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from audioclf.models.registry import build, register_model


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(inplace=True),
    )


class ResidualBlock1d(nn.Module):
    """Two 3-tap conv-BN layers plus the input (1×1 projection when channels change)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm1d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv1d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm1d(c_out),
        )
        self.shortcut: nn.Module = (
            nn.Identity()
            if c_in == c_out
            else nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class RawWaveformCNN(nn.Module):
    """A Dai et al. network: ``stem`` channels in the first (10 ms, stride 4) convolution,
    then ``stages`` of ``(channels, layers)``; ``residual`` makes each pair of layers a
    residual block (M34-res). Input ``(batch, samples)``, output ``(batch, n_classes)``."""

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        stem: int,
        stages: Sequence[tuple[int, int]],
        residual: bool = False,
        pool: int = 4,
        dropout: float = 0.0,
        clip_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.sample_rate = sample_rate
        self.clip_seconds = clip_seconds
        kernel = max(3, round(80 * sample_rate / 8000))
        layers: list[nn.Module] = [_conv_bn_relu(1, stem, kernel, stride=4)]
        c_in = stem
        for channels, depth in stages:
            layers.append(nn.MaxPool1d(pool, ceil_mode=True))
            if residual:
                layers += [
                    ResidualBlock1d(c_in if i == 0 else channels, channels) for i in range(depth)
                ]
            else:
                layers += [
                    _conv_bn_relu(c_in if i == 0 else channels, channels, 3) for i in range(depth)
                ]
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c_in, n_classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.features(waveform.unsqueeze(1)).mean(dim=-1)
        return self.classifier(self.dropout(x))


@register_model(
    "m3", family="waveform", description="Dai et al. 2017 M3: 2 conv layers on raw audio"
)
def m3(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """M3 (Dai et al. 2017, Table 1): a 256-channel 10 ms stride-4 convolution, max-pool,
    one 3-tap 256-channel convolution, global average pooling. The shallow baseline of
    the paper (about 0.2 M parameters); it shows how much depth buys on raw audio."""
    return build(
        RawWaveformCNN, n_classes, sample_rate, options, name="m3", stem=256, stages=[(256, 1)]
    )


@register_model(
    "m5", family="waveform", description="Dai et al. 2017 M5: 4 conv layers on raw audio"
)
def m5(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """M5 (Dai et al. 2017): channels 128, 128, 256, 512 with 4× max-pooling between
    layers, global average pooling. The paper's sweet spot between M3 and the deeper nets
    on small data, and the model of the torchaudio speech-commands tutorial."""
    return build(
        RawWaveformCNN,
        n_classes,
        sample_rate,
        options,
        name="m5",
        stem=128,
        stages=[(128, 1), (256, 1), (512, 1)],
    )


@register_model(
    "m11", family="waveform", description="Dai et al. 2017 M11: 11 conv layers on raw audio"
)
def m11(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """M11 (Dai et al. 2017): 64-channel first convolution, then stages 64×2, 128×2,
    256×3, 512×2 of 3-tap convolutions (max-pool between stages), global average pooling.
    The best plain (non-residual) network of the paper on UrbanSound8k."""
    return build(
        RawWaveformCNN,
        n_classes,
        sample_rate,
        options,
        name="m11",
        stem=64,
        stages=[(64, 2), (128, 2), (256, 3), (512, 2)],
    )


@register_model(
    "m18", family="waveform", description="Dai et al. 2017 M18: 18 conv layers on raw audio"
)
def m18(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """M18 (Dai et al. 2017): 64-channel first convolution, then four stages of four
    3-tap convolutions with 64, 128, 256 and 512 channels, global average pooling. The
    deepest plain network of the paper; about 3.7 M parameters."""
    return build(
        RawWaveformCNN,
        n_classes,
        sample_rate,
        options,
        name="m18",
        stem=64,
        stages=[(64, 4), (128, 4), (256, 4), (512, 4)],
    )


@register_model(
    "m34_res",
    family="waveform",
    description="Dai et al. 2017 M34-res: 34-layer residual CNN on raw audio",
)
def m34_res(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """M34-res (Dai et al. 2017): a 48-channel first convolution, then residual blocks
    (two 3-tap conv-BN layers each) in stages 48×3, 96×4, 192×6, 384×3, max-pooling
    between stages, global average pooling. The paper's residual variant, which trains
    as well as M18 despite twice the depth; about 4 M parameters."""
    return build(
        RawWaveformCNN,
        n_classes,
        sample_rate,
        options,
        name="m34_res",
        stem=48,
        stages=[(48, 3), (96, 4), (192, 6), (384, 3)],
        residual=True,
    )
