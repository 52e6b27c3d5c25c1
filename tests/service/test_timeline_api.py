"""``POST /v1/predict/timeline``: windows over a long upload, silence left unclassified."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import tone
from tests.service.conftest import wav_bytes

SR = 16_000


def _clip() -> bytes:
    quiet = np.zeros(2 * SR, dtype=np.float32)
    return wav_bytes(np.concatenate([quiet, tone(2.0, SR, 300.0), quiet]), SR)


def test_energy_timeline_covers_clip(client: TestClient) -> None:
    r = client.post(
        "/v1/predict/timeline?model=cnn&window=1&hop=1&vad=energy",
        files={"file": ("long.wav", _clip(), "audio/wav")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "cnn" and body["labels"] == ["high", "low"]
    assert body["vad"] == "energy" and body["duration_seconds"] == pytest.approx(6.0)
    segs = body["segments"]
    assert segs[0]["start"] == 0 and segs[-1]["end"] == pytest.approx(6.0)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(segs))
    assert [s["voiced"] for s in segs] == [False, False, True, True, False, False]
    for s in segs:
        if s["voiced"]:
            assert sum(s["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
            assert s["top"] in ("high", "low")
        else:
            assert s["probabilities"] is None and s["top"] is None


def test_default_vad_is_silero_for_speech_models(client: TestClient) -> None:
    r = client.post("/v1/predict/timeline?model=logreg", content=_clip())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vad"] == "silero"  # the task names no music or environment
    assert len(body["segments"]) == 5  # 2 s windows, 1 s hop over 6 s


def test_timeline_parameter_errors(client: TestClient) -> None:
    r = client.post("/v1/predict/timeline?model=cnn&window=1&hop=2", content=_clip())
    assert r.status_code == 400 and "hop" in r.json()["detail"]
    r = client.post("/v1/predict/timeline?model=cnn&vad=magic", content=_clip())
    assert r.status_code == 400 and "vad" in r.json()["detail"]
    r = client.post("/v1/predict/timeline?model=zzz", content=_clip())
    assert r.status_code == 404


def test_a_timeline_past_its_deadline_is_stopped(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_per_minute=0, work_timeout_seconds=0.001)
    r = client.post(
        "/v1/predict/timeline?model=cnn&window=1&hop=0.25&vad=none",
        files={"file": ("long.wav", _clip(), "audio/wav")},
    )
    assert r.status_code == 503 and "longer than 0.001 s" in r.json()["detail"]
