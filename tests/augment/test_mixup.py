"""Mixup: shapes, soft targets, determinism, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audioclf.augment import mixup


def test_shapes_and_targets_sum_to_one() -> None:
    x = torch.randn(6, 100)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    mixed, targets = mixup(x, y, 3, 0.4, np.random.default_rng(0))
    assert mixed.shape == x.shape and targets.shape == (6, 3)
    torch.testing.assert_close(targets.sum(dim=1), torch.ones(6))
    assert (targets >= 0).all()


def test_inputs_and_targets_are_mixed_alike() -> None:
    y = torch.tensor([0, 1, 2, 3, 1])
    x = torch.nn.functional.one_hot(y, 4).float()
    mixed, targets = mixup(x, y, 4, 1.0, np.random.default_rng(3))
    torch.testing.assert_close(mixed, targets)
    assert not torch.equal(mixed, x)


def test_seeded() -> None:
    x, y = torch.randn(4, 10), torch.tensor([0, 1, 0, 1])
    a = mixup(x, y, 2, 0.2, np.random.default_rng(5))
    b = mixup(x, y, 2, 0.2, np.random.default_rng(5))
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1], b[1])


def test_alpha_zero_is_one_hot() -> None:
    x, y = torch.randn(3, 5), torch.tensor([2, 0, 1])
    mixed, targets = mixup(x, y, 3, 0.0, np.random.default_rng(0))
    assert torch.equal(mixed, x)
    torch.testing.assert_close(targets, torch.eye(3)[[2, 0, 1]])


def test_bad_targets() -> None:
    with pytest.raises(ValueError, match="class indices"):
        mixup(torch.randn(2, 3), torch.tensor([0, -1]), 2, 0.2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="one class index"):
        mixup(torch.randn(2, 3), torch.tensor([0]), 2, 0.2, np.random.default_rng(0))
