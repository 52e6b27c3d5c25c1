"""Mixup: train on convex combinations of pairs of clips and of their targets.

Zhang et al., "mixup: Beyond Empirical Risk Minimization" (2018). One weight
``lam ~ Beta(alpha, alpha)`` per batch; each clip is mixed with a random other clip of the
same batch. The weight and the pairing come from the caller's numpy generator, so a
seeded run mixes the same way every time.
"""

from __future__ import annotations

import numpy as np
import torch


def mixup(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    alpha: float,
    generator: np.random.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixed inputs and soft targets (rows sum to 1) for a batch.

    ``x`` is a batch of inputs (first dimension = batch), ``y`` its class indices in
    ``[0, n_classes)``. ``alpha <= 0`` disables mixing (one-hot targets are returned).
    """
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"mixup needs one class index per input: x has {x.shape[0]} rows, y shape "
            f"{tuple(y.shape)}"
        )
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(
            f"mixup targets must be class indices in [0, {n_classes}), "
            f"got values from {int(y.min())} to {int(y.max())}"
        )
    one_hot = torch.nn.functional.one_hot(y.long(), n_classes).to(
        x.dtype if x.is_floating_point() else torch.float32
    )
    if alpha <= 0 or x.shape[0] < 2:
        return x, one_hot
    lam = float(generator.beta(alpha, alpha))
    perm = torch.from_numpy(generator.permutation(x.shape[0])).to(x.device)
    mixed = lam * x + (1.0 - lam) * x[perm]
    targets = lam * one_hot + (1.0 - lam) * one_hot[perm]
    return mixed, targets
