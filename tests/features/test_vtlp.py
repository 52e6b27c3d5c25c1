import pytest
import torch

from audioclf.features.frontends import LogMel
from audioclf.features.vtlp import FrequencyWarp


def test_unit_factor_is_the_identity_map() -> None:
    warp = FrequencyWarp(0.1)
    source = warp.source_bins(torch.ones(3), 257)
    assert torch.allclose(source, torch.arange(257.0).expand(3, -1))


@pytest.mark.parametrize("alpha", [0.9, 1.1])
def test_warp_scales_below_the_knee_and_keeps_both_edges(alpha: float) -> None:
    warp = FrequencyWarp(0.1, boundary=0.8)
    source = warp.source_bins(torch.tensor([alpha]), 101)[0]
    assert source[0] == 0 and source[-1] == 100  # DC and Nyquist stay put
    assert torch.allclose(source[:60], torch.arange(60.0) / alpha)
    assert (source.diff() > 0).all()  # monotonic: no band is folded over another


def test_a_tone_moves_by_the_factor() -> None:
    torch.manual_seed(0)
    warp = FrequencyWarp(0.2).train()
    power = torch.zeros(64, 201, 5)
    power[:, 50] = 1.0
    warped = warp(power)
    peaks = warped[:, :, 0].argmax(dim=1).float()
    assert peaks.min() >= 50 * 0.8 - 1 and peaks.max() <= 50 * 1.2 + 1
    assert peaks.std() > 2  # each example got its own factor
    # the energy is moved, not created: interpolation keeps it within one bin's worth
    assert torch.allclose(warped.sum(dim=1), torch.ones(64, 5), atol=1.0)


def test_eval_mode_and_zero_warp_are_the_identity() -> None:
    power = torch.rand(2, 65, 7)
    assert torch.equal(FrequencyWarp(0.1).eval()(power), power)
    assert torch.equal(FrequencyWarp(0.0).train()(power), power)


def test_logmel_warps_only_while_training() -> None:
    torch.manual_seed(0)
    wave = torch.randn(4, 16_000)
    plain, warped = LogMel(16_000), LogMel(16_000, vtlp=0.15)
    warped.train()
    assert not torch.allclose(plain(wave), warped(wave))
    warped.eval()
    assert torch.allclose(plain(wave), warped(wave))


@pytest.mark.parametrize(("max_warp", "boundary"), [(-0.1, 0.8), (0.5, 0.8), (0.1, 1.0)])
def test_bad_settings_are_refused(max_warp: float, boundary: float) -> None:
    with pytest.raises(ValueError):
        FrequencyWarp(max_warp, boundary=boundary)
