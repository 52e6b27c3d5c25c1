"""Uploaded audio is never written to disk or to the logs, on success or on failure."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import wav_bytes

MARKER = b"PRIVATE-AUDIO-MARKER-7f3a"


def test_no_audio_in_temp_dir_or_logs(
    make_client: Callable[..., TestClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    client = make_client(rate_limit_per_minute=0, max_audio_seconds=2.0)
    caplog.set_level(logging.DEBUG)
    good = wav_bytes()
    # a big enough upload that a spooling form parser would have gone to disk
    big = wav_bytes(np.zeros(16_000 * 60, np.float32))
    garbage = MARKER * 100

    r = client.post("/v1/predict", files={"file": ("private.wav", good, "audio/wav")})
    assert r.status_code == 200
    assert list(temp.iterdir()) == []
    r = client.post("/v1/predict", files={"file": ("private.wav", big, "audio/wav")})
    assert r.status_code == 413  # too long, after being read
    assert list(temp.iterdir()) == []
    r = client.post("/v1/predict", files={"file": ("private.bin", garbage, "audio/wav")})
    assert r.status_code == 415
    assert list(temp.iterdir()) == []
    r = client.post("/v1/predict/timeline?model=cnn&vad=energy", content=good)
    assert r.status_code == 200
    assert list(temp.iterdir()) == []

    logged = caplog.text
    assert "PRIVATE-AUDIO-MARKER" not in logged
    assert "private.wav" not in logged and "RIFF" not in logged
    assert "bytes=" in logged  # sizes and timings are logged
