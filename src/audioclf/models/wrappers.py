"""Modules that wrap a registry model for a particular input kind."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Standardized(nn.Module):
    """Standardise a feature vector with training-set statistics, then run ``model``.

    Hand-crafted vectors mix scales (mel power next to chroma in 0..1); the statistics
    are buffers, so they travel with the weights and inside the ONNX graph.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: nn.Module, dim: int) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, features: np.ndarray) -> Standardized:
        """Set the statistics from training features ``(n, dim)``."""
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-6))
        return self

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.model((features - self.mean) / self.std)
