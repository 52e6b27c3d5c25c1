"""Presets, config mappings and their errors, and the speed of the default chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.augment import (
    PRESETS,
    TRANSFORMS,
    BackgroundNoise,
    Compose,
    Gain,
    TimeShift,
    build_augmentation,
)
from tests.conftest import tone

SR = 16_000


@pytest.mark.parametrize("spec", [None, "none", " None ", {}])
def test_no_augmentation(spec: object) -> None:
    assert build_augmentation(spec) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build_and_run(preset: str, tmp_path: Path) -> None:
    aug = build_augmentation(preset)
    assert isinstance(aug, Compose) and len(aug) == len(PRESETS[preset])
    sf.write(tmp_path / "n.wav", tone(0.2, freq=60.0), SR)
    with_noise = build_augmentation(preset, noise_dir=tmp_path)
    assert isinstance(with_noise, Compose)
    assert isinstance(with_noise.transforms[-1], BackgroundNoise)
    y = tone(0.5, amp=0.4)
    for seed in range(5):
        out = with_noise(y, SR, np.random.default_rng(seed))
        assert out.shape == y.shape and out.dtype == np.float32
        assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


def test_compose_is_deterministic_per_seed() -> None:
    aug = build_augmentation("strong")
    assert aug is not None
    y = tone(0.5, amp=0.4)
    a = aug(y, SR, np.random.default_rng(7))
    b = build_augmentation("strong")(y, SR, np.random.default_rng(7))  # type: ignore[misc]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, aug(y, SR, np.random.default_rng(8)))


def test_mapping_spec() -> None:
    spec = {"gain": {"min_gain_db": -1, "max_gain_db": 1, "p": 1.0}, "time_shift": None}
    aug = build_augmentation(spec)
    assert isinstance(aug, Compose)
    gain, shift = aug.transforms
    assert isinstance(gain, Gain) and gain.max_gain_db == 1 and gain.p == 1.0
    assert isinstance(shift, TimeShift)
    assert set(TRANSFORMS) >= {"gain", "white_noise", "colored_noise", "reverb", "pitch_shift"}


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        ("loud", ["'loud'", "default", "strong", "light"]),
        ({"echo": {}}, ["'echo'", "reverb", "gain"]),
        ({"gain": {"max_db": 3}}, ["max_db", "min_gain_db", "max_gain_db"]),
        ({"gain": 3}, ["'gain'", "mapping"]),
        ({"gain": {"min_gain_db": 6, "max_gain_db": -6}}, ["gain dB"]),
        ({"background_noise": {}}, ["noise"]),
        (["gain"], ["mapping"]),
    ],
)
def test_spec_errors_name_the_problem(spec: object, needles: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        build_augmentation(spec)  # type: ignore[arg-type]
    for needle in needles:
        assert needle in str(info.value)
