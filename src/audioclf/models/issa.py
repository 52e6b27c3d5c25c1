"""The 1-D CNN of Issa et al. (2020) over the 193-value hand-crafted vector.

Issa, Demirci and Yazici, "Speech emotion recognition with deep convolutional neural
networks", Biomedical Signal Processing and Control 59 (2020). The network treats the
hand-crafted vector (:func:`audioclf.features.handcrafted.issa_features`) as a 1-channel
sequence of length 193. Layers, following the paper's figure and the authors' published
Keras code (``padding="same"``, so the length only changes at the pooling):

======================================  ==================
layer                                   output (C × L)
======================================  ==================
input                                   1 × 193
Conv1d 256, k=5 → ReLU                  256 × 193
Conv1d 128, k=5 → ReLU                  128 × 193
Dropout 0.1
MaxPool1d 8                             128 × 24
Conv1d 128, k=5 → ReLU  (×3)            128 × 24
Conv1d 128, k=5 → BatchNorm → ReLU      128 × 24
Dropout 0.2
Flatten                                 3072
Linear → n_classes (logits)
======================================  ==================

Softmax is left to the loss and to the exporter. Input standardisation with training-set
statistics is added by the trainer (:class:`audioclf.models.wrappers.Standardized`).
"""

from __future__ import annotations

import torch
from torch import nn

from audioclf.features.handcrafted import ISSA_DIM
from audioclf.models.registry import register_model


class IssaCNN(nn.Module):
    """Issa et al. (2020) 1-D CNN: ``(batch, 193)`` float32 features → ``(batch, n_classes)``."""

    input_kind = "handcrafted"

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16_000,
        input_dim: int = ISSA_DIM,
        channels: tuple[int, int] = (256, 128),
        kernel_size: int = 5,
        pool: int = 8,
        n_mid_convs: int = 3,
        dropout: tuple[float, float] = (0.1, 0.2),
    ) -> None:
        super().__init__()
        if input_dim < pool:
            raise ValueError(f"input_dim {input_dim} is shorter than the pooling width {pool}")
        self.n_classes = n_classes
        self.sample_rate = sample_rate
        self.input_dim = input_dim
        wide, narrow = channels
        pad = kernel_size // 2
        layers: list[nn.Module] = [
            nn.Conv1d(1, wide, kernel_size, padding=pad),
            nn.ReLU(),
            nn.Conv1d(wide, narrow, kernel_size, padding=pad),
            nn.ReLU(),
            nn.Dropout(dropout[0]),
            nn.MaxPool1d(pool),
        ]
        for _ in range(n_mid_convs):
            layers += [nn.Conv1d(narrow, narrow, kernel_size, padding=pad), nn.ReLU()]
        layers += [
            nn.Conv1d(narrow, narrow, kernel_size, padding=pad),
            nn.BatchNorm1d(narrow),
            nn.ReLU(),
            nn.Dropout(dropout[1]),
            nn.Flatten(),
        ]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(narrow * (input_dim // pool), n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` for hand-crafted vectors ``(batch, input_dim)``."""
        return self.classifier(self.features(features.unsqueeze(1)))


@register_model(
    "issa_cnn",
    family="handcrafted",
    input="handcrafted",
    description="Issa et al. 2020 1-D CNN over the 193-value MFCC/mel/chroma/contrast/tonnetz",
)
def issa_cnn(n_classes: int, *, sample_rate: int = 16_000, dropout: float = 0.1) -> IssaCNN:
    """The paper's network; ``dropout`` sets the first dropout (the second is twice it)."""
    return IssaCNN(n_classes, sample_rate=sample_rate, dropout=(dropout, 2 * dropout))
