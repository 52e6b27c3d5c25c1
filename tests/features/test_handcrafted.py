"""Hand-crafted clip descriptors: dimensions, order of the Issa split, robustness."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.features.handcrafted import ISSA_DIM, POOLED_DIM, issa_features, pooled_stats
from tests.conftest import tone

SR = 16_000

SIGNALS = {
    "tone_1s": tone(1.0, SR),
    "silence": np.zeros(SR, dtype=np.float32),
    "tone_0.1s": tone(0.1, SR),
    "ten_samples": tone(1.0, SR)[:10],
    "noise": np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32) * 0.1,
}


def test_dimensions_are_the_documented_ones() -> None:
    assert ISSA_DIM == 50 + 50 + 80 + 7 + 6 == 193
    assert POOLED_DIM == (40 * 3 + 6) * 4


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_issa_features_shape_and_finite(name: str) -> None:
    vector = issa_features(SIGNALS[name], SR)
    assert vector.shape == (ISSA_DIM,)
    assert vector.dtype == np.float32
    assert np.isfinite(vector).all()


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_pooled_stats_shape_and_finite(name: str) -> None:
    vector = pooled_stats(SIGNALS[name], SR)
    assert vector.shape == (POOLED_DIM,)
    assert vector.dtype == np.float32
    assert np.isfinite(vector).all()


@pytest.mark.parametrize("sr", [8_000, 22_050, 44_100])
def test_other_sample_rates(sr: int) -> None:
    y = tone(0.5, sr)
    assert issa_features(y, sr).shape == (ISSA_DIM,)
    assert np.isfinite(pooled_stats(y, sr)).all()


def test_issa_chroma_block_peaks_at_a_for_a440() -> None:
    chroma = issa_features(tone(1.0, SR, freq=440.0), SR)[100:180]
    # 80 bins from C: A is 9 semitones up, i.e. bin 9 / 12 * 80 = 60 (a semitone is 6.7 bins)
    assert abs(int(np.argmax(chroma)) - 60) <= 3


def test_pooled_centroid_follows_pitch() -> None:
    centroid_mean = 120  # after 40 MFCC + 40 delta + 40 delta-delta means
    low = pooled_stats(tone(1.0, SR, freq=300.0), SR)[centroid_mean]
    high = pooled_stats(tone(1.0, SR, freq=3000.0), SR)[centroid_mean]
    assert 0.0 < low < high < 1.0


def test_silence_differs_from_a_tone() -> None:
    assert not np.allclose(pooled_stats(SIGNALS["silence"], SR), pooled_stats(tone(1.0), SR))


def test_rejects_multichannel_input() -> None:
    with pytest.raises(ValueError, match="mono"):
        issa_features(np.zeros((2, SR), dtype=np.float32), SR)
    with pytest.raises(ValueError, match="mono"):
        pooled_stats(np.zeros((2, SR), dtype=np.float32), SR)
