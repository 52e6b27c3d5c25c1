"""Run folders written by audioclf 0.1.0 still load, predict what they predicted then,
and serve (tests/formats/release_0_1_0/README.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from audioclf.formats.runfolder import CARD_VERSION, RunFolder
from audioclf.inference.predictor import Predictor
from audioclf.service.app import create_app
from audioclf.service.settings import Settings
from tests.service.conftest import wav_bytes

RELEASE = Path(__file__).parent / "release_0_1_0"
EXPECTED: dict[str, list[list[float]]] = json.loads((RELEASE / "expected.json").read_text())
SR = 16_000


def _tones() -> list[np.ndarray]:
    t = np.arange(int(0.7 * SR)) / SR
    return [(0.25 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in (300.0, 2400.0, 900.0)]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_old_runs_predict_what_they_predicted(key: str) -> None:
    run, backend = key.split(":")
    predictor = Predictor(
        RELEASE / run, backend="onnx" if backend in ("onnx", "ensemble") else "torch"
    )
    assert predictor.backend == backend
    np.testing.assert_allclose(predictor.predict_proba(_tones()), EXPECTED[key], atol=1e-5)


def test_old_cards_read_as_the_current_layout() -> None:
    for run in ("logreg", "pair", "pair/members/1-cnn"):
        card = RunFolder(RELEASE / run).read_card()
        assert card.version == CARD_VERSION and card.labels == ["high", "low"]


def test_an_old_ensemble_serves(tmp_path: Path) -> None:
    served = shutil.copytree(RELEASE / "pair", tmp_path / "pair")
    settings = Settings(_env_file=None, runs=[served], rate_limit_per_minute=0)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/predict", files={"file": ("clip.wav", wav_bytes(), "audio/wav")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {label for label in body["results"][0]["probabilities"]} == {"high", "low"}
