"""Every transform: seeded determinism, safe output, and the ranges it promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.augment import (
    BackgroundNoise,
    ColoredNoise,
    Gain,
    NoiseFolderError,
    PitchShift,
    Reverb,
    TimeShift,
    TimeStretch,
    Transform,
    WhiteNoise,
    synthetic_rir,
)
from audioclf.augment.base import rms
from tests.conftest import tone

SR = 16_000


def _speechlike(seconds: float = 0.5) -> np.ndarray:
    """A tone with a louder second half, so shifts and stretches change the signal."""
    y = tone(seconds, freq=330.0, amp=0.2) + tone(seconds, freq=1210.0, amp=0.1)
    y[len(y) // 2 :] *= 2.0
    return y


@pytest.fixture
def noise_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "noise"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(folder / "hum.wav", tone(0.3, freq=50.0, amp=0.3), SR)
    sf.write(folder / "sub" / "hiss.flac", (0.1 * rng.standard_normal(SR)).astype(np.float32), SR)
    (folder / "notes.txt").write_text("not audio")
    (folder / "broken.wav").write_bytes(b"garbage")
    return folder


FACTORIES = {
    "gain": lambda d: Gain(p=1.0),
    "white_noise": lambda d: WhiteNoise(p=1.0),
    "colored_noise": lambda d: ColoredNoise(p=1.0),
    "time_shift": lambda d: TimeShift(max_fraction=0.3, p=1.0),
    "time_shift_zero": lambda d: TimeShift(max_fraction=0.3, rollover=False, p=1.0),
    "time_stretch": lambda d: TimeStretch(0.8, 1.2, p=1.0),
    "pitch_shift": lambda d: PitchShift(-3.0, 3.0, p=1.0),
    "reverb": lambda d: Reverb(p=1.0),
    "background_noise": lambda d: BackgroundNoise(d, p=1.0),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_seeded_and_safe(name: str, noise_dir: Path) -> None:
    transform: Transform = FACTORIES[name](noise_dir)
    y = _speechlike()
    a = transform(y, SR, np.random.default_rng(1))
    params_a = dict(transform.parameters)
    b = FACTORIES[name](noise_dir)(y, SR, np.random.default_rng(1))
    c = transform(y, SR, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, y)
    assert params_a["should_apply"] is True and len(params_a) > 1
    for out in (a, c):
        assert out.dtype == np.float32 and out.shape == y.shape
        assert np.isfinite(out).all() and np.abs(out).max() <= 1.0
    np.testing.assert_array_equal(y, _speechlike())  # input untouched


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_loud_input_is_not_clipped(name: str, noise_dir: Path) -> None:
    y = np.clip(_speechlike() * 5.0, -1.0, 1.0)
    out = FACTORIES[name](noise_dir)(y, SR, np.random.default_rng(3))
    assert np.abs(out).max() <= 1.0 and np.isfinite(out).all()


def test_probability_zero_leaves_the_clip_alone() -> None:
    y = _speechlike()
    out = Reverb(p=0.0)(y, SR, np.random.default_rng(0))
    np.testing.assert_array_equal(out, y)


def test_probability_is_respected() -> None:
    rng = np.random.default_rng(0)
    gain = Gain(p=0.3)
    applied = 0
    for _ in range(400):
        gain(_speechlike(0.01), SR, rng)
        applied += gain.parameters["should_apply"]
    assert 80 < applied < 160


def test_gain_in_range() -> None:
    y = _speechlike() * 0.2
    gain = Gain(-6.0, 6.0, p=1.0)
    for seed in range(10):
        out = gain(y, SR, np.random.default_rng(seed))
        db = 20 * np.log10(rms(out) / rms(y))
        assert -6.001 <= db <= 6.001
        assert db == pytest.approx(gain.parameters["gain_db"], abs=1e-3)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: WhiteNoise(12.0, 18.0, p=1.0),
        lambda d: ColoredNoise(12.0, 18.0, p=1.0),
        lambda d: BackgroundNoise(d, 12.0, 18.0, p=1.0),
    ],
)
def test_noise_snr_within_range(make: object, noise_dir: Path) -> None:
    transform: Transform = make(noise_dir)  # type: ignore[operator]
    y = _speechlike(1.0)
    for seed in range(8):
        out = transform(y, SR, np.random.default_rng(seed))
        noise = out.astype(np.float64) - y
        snr = 20 * np.log10(rms(y) / rms(noise))
        assert 12.0 - 0.05 <= snr <= 18.0 + 0.05
        assert snr == pytest.approx(transform.parameters["snr_db"], abs=0.05)


def test_colored_noise_slope() -> None:
    y = _speechlike(1.0)
    out = ColoredNoise(20.0, 20.0, -6.0, -6.0, p=1.0)(y, SR, np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(out - y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    low = spectrum[(freqs > 100) & (freqs < 200)].mean()
    high = spectrum[(freqs > 3200) & (freqs < 6400)].mean()
    assert 10 * np.log10(low / high) > 20  # brown noise: ~6 dB/octave over ~5 octaves


def test_time_shift_zero_fill() -> None:
    y = np.ones(1000, np.float32) * 0.5
    shift = TimeShift(max_fraction=0.5, rollover=False, p=1.0)
    out = shift(y, SR, np.random.default_rng(4))
    moved = round(abs(shift.parameters["shift_amount"]) * len(y))
    assert int((out == 0).sum()) == moved


def test_time_stretch_keeps_length_for_any_rate() -> None:
    y = _speechlike()
    for rate in (0.5, 2.0):
        out = TimeStretch(rate, rate, p=1.0)(y, SR, np.random.default_rng(0))
        assert out.shape == y.shape


def test_synthetic_rir_decays() -> None:
    rir = synthetic_rir(SR, 0.5, np.random.default_rng(0))
    assert len(rir) == SR // 2 and rir[0] == 1.0 and np.abs(rir).max() == 1.0
    quarter = len(rir) // 4
    assert rms(rir[1:quarter]) > 10 * rms(rir[-quarter:])


def test_background_noise_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(NoiseFolderError, match="not found"):
        BackgroundNoise(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoiseFolderError, match="no audio files"):
        BackgroundNoise(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.wav").write_bytes(b"junk")
    transform = BackgroundNoise(tmp_path / "bad", p=1.0)
    with pytest.raises(NoiseFolderError, match="could be decoded"):
        transform(_speechlike(), SR, np.random.default_rng(0))


def test_background_noise_decodes_each_file_once(noise_dir: Path) -> None:
    transform = BackgroundNoise(noise_dir, p=1.0)
    assert len(transform.files) == 3  # two noises and the broken wav, not the .txt
    for seed in range(5):
        transform(_speechlike(), SR, np.random.default_rng(seed))
    assert len(transform.noises(SR)) == 2
    assert transform.noises(SR) is transform.noises(SR)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="p must be"):
        Gain(p=1.5)
    with pytest.raises(ValueError, match="SNR"):
        WhiteNoise(30.0, 10.0)
    with pytest.raises(ValueError, match="rate"):
        TimeStretch(0.1, 1.0)
