"""Speed perturbation: duration and pitch scale together; speeds are checked."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.features.speed import SpeedError, at_speed, check_speeds, played_at, views

SR = 16_000


def _peak_hz(y: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / SR)[spectrum.argmax()])


@pytest.mark.parametrize("speed", [0.9, 1.1, 1.25])
def test_speed_scales_duration_down_and_pitch_up(speed: float) -> None:
    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    out = at_speed(y, SR, speed)
    assert out.dtype == np.float32
    assert abs(len(out) - SR / speed) <= 2
    assert abs(_peak_hz(out) - 440.0 * speed) < 3.0


def test_speed_one_and_empty_are_unchanged() -> None:
    y = np.linspace(-1, 1, 100, dtype=np.float32)
    assert at_speed(y, SR, 1.0) is y
    assert len(at_speed(np.zeros(0, np.float32), SR, 1.1)) == 0


def test_views_put_the_clip_itself_first() -> None:
    assert views([0.9, 1.1]) == (1.0, 0.9, 1.1)
    assert views([]) == (1.0,)


@pytest.mark.parametrize(
    ("speeds", "message"),
    [
        ([1.0], "not 1.0"),
        ([0.3], "between 0.5 and 2.0"),
        ([2.5], "between"),
        ([0.9, 0.9], "repeat"),
    ],
)
def test_bad_speeds_are_refused(speeds: list[float], message: str) -> None:
    with pytest.raises(SpeedError, match=message):
        check_speeds(speeds)


def test_played_at_applies_a_feature_function_to_the_perturbed_clip() -> None:
    def length(y: np.ndarray, sr: int) -> np.ndarray:
        return np.array([len(y)], np.float32)

    assert played_at(length, 1.0) is length
    y = np.zeros(SR, np.float32)
    assert played_at(length, 1.25)(y, SR)[0] == len(at_speed(y, SR, 1.25))
