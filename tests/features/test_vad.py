"""Voice-activity detection: energy finds a tone between silences, silero ignores silence."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.features.vad import VadError, voiced_regions
from tests.conftest import tone

SR = 16_000


def silence_tone_silence() -> np.ndarray:
    """2 s silence, 2 s tone, 2 s silence."""
    quiet = np.zeros(2 * SR, dtype=np.float32)
    return np.concatenate([quiet, tone(2.0, SR), quiet])


def test_energy_vad_finds_the_tone() -> None:
    regions = voiced_regions(silence_tone_silence(), SR, method="energy")
    assert len(regions) == 1
    start, end = regions[0]
    assert start == pytest.approx(2.0, abs=0.05) and end == pytest.approx(4.0, abs=0.05)


def test_energy_vad_on_steady_sound_is_all_voiced() -> None:
    regions = voiced_regions(tone(1.0, SR), SR, method="energy")
    assert regions and regions[0][0] == 0 and regions[-1][1] == pytest.approx(1.0, abs=0.03)


def test_silero_vad_runs_and_ignores_silence() -> None:
    rng = np.random.default_rng(0)
    y = np.concatenate([np.zeros(SR, np.float32), 0.3 * tone(1.0, SR, 180.0)])
    y = (y + 0.001 * rng.standard_normal(len(y))).astype(np.float32)
    regions = voiced_regions(y, SR, method="silero")
    assert isinstance(regions, list)
    assert all(start >= 0.9 for start, _ in regions)  # nothing found in the silent second
    assert voiced_regions(np.zeros(SR, np.float32), 8_000, method="silero") == []


def test_unknown_vad_method_is_refused() -> None:
    with pytest.raises(VadError, match="silero, energy, none"):
        voiced_regions(tone(), SR, method="magic")  # type: ignore[arg-type]
