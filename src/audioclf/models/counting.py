"""``countnet``: a CRNN for counting simultaneous speakers, after CountNet (Stöter et al.
2018, "CountNet: Estimating the number of concurrent speakers using supervised learning").

Counting needs fine time resolution more than a wide receptive field in frequency: the cue
is how many harmonic stacks, onsets and pitch tracks overlap frame by frame. So, unlike
``cnn_lstm`` and ``audioclf_default`` (which halve time at every stage), the convolutions
here pool frequency at every block but time only once (20 ms frames stay), each frame's
remaining bands are projected to a vector, and a BiGRU reads the whole sequence; mean and
max over time summarise it (the max catches the frame where most voices overlap).
Per-clip log-mel normalisation removes loudness, which the mixtures randomise anyway.

``voice_count`` counts from what a pretrained speaker encoder knows about voices instead:
a logistic regression on the cluster statistics of the voice encoder's embeddings
(:mod:`audioclf.features.voice_count`, input kind ``voice_count``) joined with the
encoder's pooled states (``voice_encoder``), trained and served as the other classical
models are.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from audioclf.models.classical import logreg
from audioclf.models.registry import build, register_model
from audioclf.models.spectrogram import MelInput, conv_block


class CountCRNN(nn.Module):
    """log-mel → conv blocks pooling (2, 2) then (2, 1)… → per-frame projection → BiGRU →
    mean+max over time → dropout → linear."""

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        channels: Sequence[int] = (32, 64, 96),
        hidden: int = 96,
        n_mels: int = 64,
        normalize: str = "utterance",
        specaugment: bool = True,
        dropout: float = 0.3,
        clip_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        if not channels:
            raise ValueError("countnet needs at least one conv block (channels=[...])")
        self.n_classes, self.sample_rate, self.clip_seconds = n_classes, sample_rate, clip_seconds
        self.frontend = MelInput(
            sample_rate, n_mels=n_mels, normalize=normalize, specaugment=specaugment
        )
        widths = [1, *channels]
        pools = [(2, 2)] + [(2, 1)] * (len(channels) - 1)
        self.blocks = nn.Sequential(
            *(
                conv_block(a, b, pool)
                for (a, b), pool in zip(itertools.pairwise(widths), pools, strict=True)
            )
        )
        bands = n_mels
        for _ in channels:
            bands = math.ceil(bands / 2)
        self.project = nn.Sequential(
            nn.Linear(widths[-1] * bands, 2 * hidden), nn.ReLU(inplace=True)
        )
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(4 * hidden, n_classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, n_classes)`` logits."""
        x = self.blocks(self.frontend(waveform))  # (B, C, F, T)
        x = x.permute(0, 3, 1, 2).flatten(2)  # (B, T, C*F)
        x, _ = self.gru(self.project(x))
        pooled = torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=1)
        return self.classifier(self.dropout(pooled))


@register_model(
    "countnet",
    family="recurrent",
    description="Speaker-counting CRNN: conv blocks keep 20 ms frames, BiGRU, mean+max pooling",
)
def countnet(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """CountNet-style CRNN (conv 32/64/96, BiGRU 96) for counting overlapping voices."""
    return build(CountCRNN, n_classes, sample_rate, options, name="countnet")


# C=0.1 was best of 0.1/1 on the validation pool of 1-3 speaker mixtures; the voice
# encoder's pooled states are part of the input because they counted better than the
# cluster statistics alone there (validation 0.834 alone, 0.685 for the statistics, 0.848
# both)
@register_model(
    "voice_count",
    family="classical",
    input="voice_count+voice_encoder",
    description="Speaker counting: logistic regression on cluster statistics of a pretrained "
    "voice encoder's embeddings and its pooled states (extra 'voice')",
)
def voice_count(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.1,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Any:
    """:func:`~audioclf.models.classical.logreg` (StandardScaler → LogisticRegression)
    over the ``voice_count`` vector joined with the ``voice_encoder`` one."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)
