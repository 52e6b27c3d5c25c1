"""Shared fixtures: every test makes its own audio; nothing reads ../shared."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def tone(
    seconds: float = 0.5, sr: int = 16_000, freq: float = 440.0, amp: float = 0.5
) -> np.ndarray:
    """A sine tone, float32 mono."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point the feature cache at a per-test temp folder so tests never share or leak state."""
    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path_factory.mktemp("cache")))


def hour_of_silence_flac(sample_rate: int = 8_000) -> bytes:
    """One hour of 16-bit FLAC silence: ~90 kB on the wire, 115 MB of float32 once decoded."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    minute = np.zeros(sample_rate * 60, np.int16)
    with sf.SoundFile(buf, "w", sample_rate, 1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(60):
            f.write(minute)
    return buf.getvalue()
