"""SpecAugment masks in training only, within the configured widths."""

from __future__ import annotations

import pytest
import torch

from audioclf.features.specaugment import SpecAugment


def _spec(batch: int = 4, bins: int = 64, frames: int = 100) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(batch, bins, frames) + 5.0


def test_identity_in_eval() -> None:
    x = _spec()
    assert SpecAugment().eval()(x) is x


def test_masks_in_training_with_the_example_mean() -> None:
    torch.manual_seed(1)
    x = _spec()
    y = SpecAugment(freq_masks=1, freq_width=10, time_masks=1, time_width=10).train()(x)
    assert y.shape == x.shape
    changed = y != x
    assert changed.any()
    for i in range(x.shape[0]):
        assert torch.allclose(y[i][changed[i]], x[i].mean().expand(int(changed[i].sum())))
    masked_bins = changed.all(dim=2).sum(dim=1)  # whole frequency bands masked
    assert int(masked_bins.max()) <= 10


def test_examples_get_different_masks() -> None:
    torch.manual_seed(2)
    x = _spec(batch=8)
    changed = SpecAugment(freq_width=20, time_width=30).train()(x) != x
    assert len({tuple(c.flatten().tolist()) for c in changed}) > 1


def test_no_masks_leaves_input_unchanged() -> None:
    x = _spec()
    augment = SpecAugment(freq_masks=0, time_masks=0).train()
    assert torch.equal(augment(x), x)


def test_time_masks_respect_the_fraction_of_the_clip() -> None:
    torch.manual_seed(3)
    x = _spec(batch=16, frames=50)
    augment = SpecAugment(freq_masks=0, time_masks=1, time_width=1000, max_time_fraction=0.2)
    changed = augment.train()(x) != x
    masked_frames = changed.all(dim=1).sum(dim=1)
    assert int(masked_frames.max()) <= 10
    assert int(masked_frames.max()) > 0


def test_four_dimensional_input() -> None:
    torch.manual_seed(4)
    x = _spec().unsqueeze(1)
    y = SpecAugment(freq_width=10, time_width=10).train()(x)
    assert y.shape == x.shape and (y != x).any()


def test_negative_width_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        SpecAugment(freq_width=-1)
