"""Serving a registry: prediction ids, feedback with and without consent, monitoring,
and hot reload of a promotion while requests are in flight."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from audioclf.registry import Registry
from audioclf.registry.db import session_factory
from audioclf.registry.tables import FeedbackRow, ModelVersion, PredictionRow
from audioclf.service.feedback_tokens import sign_prediction
from tests.registry.dbs import BACKENDS, temporary_db
from tests.service.conftest import STRONG_KEY, wav_bytes


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from temporary_db(request.param, tmp_path)


@pytest.fixture
def registry(db_url: str, runs: list[Path]) -> Registry:
    """``m`` v1 = the logreg run (production), v2 = the cnn run (candidate)."""
    reg = Registry(db_url)
    reg.add(runs[1], "m")
    reg.add(runs[0], "m")
    reg.promote("m", 1)
    return reg


@pytest.fixture
def app_client(
    make_client: Callable[..., TestClient], registry: Registry, db_url: str, tmp_path: Path
) -> TestClient:
    return make_client(
        runs=[],
        registry=["m"],
        db_url=db_url,
        feedback_dir=tmp_path / "pool",
        api_key=STRONG_KEY,
        rate_limit_per_minute=0,
    )


TOKENS: dict[str, str] = {}  # prediction id -> the feedback token its response carried


def _predict(client: TestClient, audio: bytes) -> dict:
    response = client.post("/v1/predict", files={"file": ("a.wav", audio, "audio/wav")})
    assert response.status_code == 200, response.text
    result: dict = response.json()["results"][0]
    TOKENS[result["prediction_id"]] = result["feedback_token"]
    return result


def _feedback(
    client: TestClient,
    pid: str,
    label: str,
    *,
    consent: bool = False,
    audio: bytes | None = None,
    who: str = "tester",
    token: str | None = None,
) -> Any:
    data = {
        "prediction_id": pid,
        "feedback_token": TOKENS.get(pid, "") if token is None else token,
        "label": label,
        "who": who,
        "consent": str(consent).lower(),
    }
    files = {"file": ("a.wav", audio, "audio/wav")} if audio is not None else None
    return client.post("/v1/feedback", data=data, files=files)


def _pool_files(pool: Path) -> list[Path]:
    return [p for p in pool.rglob("*") if p.is_file()] if pool.exists() else []


def test_predictions_are_logged_with_a_hash_never_audio(
    app_client: TestClient, registry: Registry
) -> None:
    result = _predict(app_client, wav_bytes())
    assert result["model"] == "m" and result["version"] == 1
    app_client.app.state.prediction_log.flush()  # type: ignore[attr-defined]
    with registry.sessions() as s:
        row = s.get(PredictionRow, result["prediction_id"])
    assert row is not None and row.model_version == 1 and row.top_label == result["top"]["label"]
    assert len(row.audio_sha256) == 64


def test_feedback_without_consent_stores_only_the_label(
    app_client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    result = _predict(app_client, wav_bytes())
    response = _feedback(app_client, result["prediction_id"], "low")
    assert response.status_code == 200, response.text
    assert response.json()["clip_kept"] is False
    assert _pool_files(tmp_path / "pool") == []
    with registry.sessions() as s:
        row = s.scalar(select(FeedbackRow))
    assert row is not None and row.correct_label == "low" and row.clip_path is None
    assert _feedback(app_client, result["prediction_id"], "low").status_code == 409


def test_a_clip_without_consent_is_refused_and_not_stored(
    app_client: TestClient, tmp_path: Path
) -> None:
    audio = wav_bytes()
    result = _predict(app_client, audio)
    response = _feedback(app_client, result["prediction_id"], "low", audio=audio)
    assert response.status_code == 400 and "consent" in response.json()["detail"]
    assert _pool_files(tmp_path / "pool") == []


def test_feedback_with_consent_keeps_the_same_clip_in_the_pool(
    app_client: TestClient, tmp_path: Path
) -> None:
    audio = wav_bytes()
    result = _predict(app_client, audio)
    other = _feedback(
        app_client, result["prediction_id"], "high", consent=True, audio=wav_bytes(fmt="FLAC")
    )
    assert other.status_code == 400 and "not the one that was classified" in other.text
    response = _feedback(app_client, result["prediction_id"], "high", consent=True, audio=audio)
    assert response.status_code == 200, response.text
    assert response.json()["clip_kept"] is True
    pool = tmp_path / "pool"
    clips = list((pool / "clips").iterdir())
    # the decoded samples are kept, re-encoded as FLAC; not the bytes as they came
    assert len(clips) == 1 and clips[0].suffix == ".flac"
    kept, rate = sf.read(clips[0], dtype="float32")
    sent, sent_rate = sf.read(io.BytesIO(audio), dtype="float32")
    assert rate == sent_rate and kept.shape == sent.shape
    np.testing.assert_allclose(kept, sent, atol=1e-4)
    row = json.loads((pool / "manifest.jsonl").read_text())
    assert row["label"] == "high" and row["source"] == "feedback"
    assert row["prediction_id"] == result["prediction_id"] and row["model"] == "m"
    assert row["bytes"] == clips[0].stat().st_size
    assert row["client"] and "testclient" not in json.dumps(row)


def test_junk_appended_to_a_clip_is_not_kept(app_client: TestClient, tmp_path: Path) -> None:
    audio = wav_bytes() + b"\0" * 200_000  # legal WAV, then junk the decoder ignores
    result = _predict(app_client, audio)
    response = _feedback(app_client, result["prediction_id"], "high", consent=True, audio=audio)
    assert response.status_code == 200, response.text
    (clip,) = (tmp_path / "pool" / "clips").iterdir()
    assert clip.stat().st_size < len(wav_bytes())


@pytest.mark.parametrize(
    ("limits", "status", "says"),
    [
        ({"feedback_max_bytes": 20_000}, 507, "pool is full"),
        ({"feedback_client_max_bytes": 20_000}, 429, "as many clips"),
    ],
)
def test_the_pool_and_each_client_share_are_bounded(
    make_client: Callable[..., TestClient],
    registry: Registry,
    db_url: str,
    tmp_path: Path,
    limits: dict[str, int],
    status: int,
    says: str,
) -> None:
    client = make_client(
        runs=[],
        registry=["m"],
        db_url=db_url,
        feedback_dir=tmp_path / "pool",
        api_key=STRONG_KEY,
        rate_limit_per_minute=0,
        **limits,
    )
    audio = wav_bytes()  # 1 s of a tone: a FLAC of a few kB
    statuses = []
    for _ in range(12):
        pid = _predict(client, audio)["prediction_id"]
        response = _feedback(client, pid, "high", consent=True, audio=audio)
        statuses.append(response.status_code)
        if response.status_code != 200:
            assert says in response.json()["detail"]
            # the correction without the clip is still taken
            assert _feedback(client, pid, "high").status_code == 200
    assert 200 in statuses and statuses[-1] == status
    rows = (tmp_path / "pool" / "manifest.jsonl").read_text().splitlines()
    kept = sum(json.loads(row)["bytes"] for row in rows)
    assert kept <= 20_000 and len(list((tmp_path / "pool" / "clips").iterdir())) == len(rows)


@pytest.mark.parametrize(
    ("pid", "label", "status"), [("nope", "low", 404), (None, "angry", 400), (None, "", 400)]
)
def test_bad_feedback_is_refused_clearly(
    app_client: TestClient, pid: str | None, label: str, status: int
) -> None:
    real = _predict(app_client, wav_bytes())["prediction_id"]
    secret = app_client.app.state.feedback_secret  # type: ignore[attr-defined]
    token = sign_prediction(secret, pid) if pid else None  # a signed id the registry lacks
    response = _feedback(app_client, pid or real, label, token=token)
    assert response.status_code == status
    assert response.json()["detail"]


def test_feedback_needs_the_token_of_its_own_prediction(
    app_client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    audio = wav_bytes()
    first, second = _predict(app_client, audio), _predict(app_client, audio)
    pid = first["prediction_id"]
    forged = first["feedback_token"][:-2] + ("AA" if first["feedback_token"][-2:] != "AA" else "BB")
    for token, says in [
        ("", "needs the `feedback_token`"),
        (forged, "not valid"),
        (second["feedback_token"], "another prediction"),
        (sign_prediction("another server's secret", pid), "not valid"),
    ]:
        response = _feedback(app_client, pid, "high", consent=True, audio=audio, token=token)
        assert response.status_code == 403 and says in response.json()["detail"], response.text
    assert _pool_files(tmp_path / "pool") == []
    with registry.sessions() as s:
        assert s.scalar(select(FeedbackRow)) is None
    assert _feedback(app_client, pid, "high", consent=True, audio=audio).status_code == 200


def test_a_rejected_insert_leaves_no_clip_in_the_pool(
    app_client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    audio = wav_bytes()
    result = _predict(app_client, audio)

    def refuse(*args: object) -> None:
        raise IntegrityError("INSERT INTO feedback", {}, Exception("refused by the database"))

    event.listen(FeedbackRow, "before_insert", refuse)
    try:
        response = _feedback(app_client, result["prediction_id"], "high", consent=True, audio=audio)
    finally:
        event.remove(FeedbackRow, "before_insert", refuse)
    assert response.status_code == 409
    assert _pool_files(tmp_path / "pool") == []
    with registry.sessions() as s:
        assert s.scalar(select(FeedbackRow)) is None


def test_monitoring_needs_the_key_and_counts_traffic_and_disagreement(
    app_client: TestClient,
) -> None:
    first = _predict(app_client, wav_bytes())
    _predict(app_client, wav_bytes())
    wrong = "low" if first["top"]["label"] == "high" else "high"
    assert _feedback(app_client, first["prediction_id"], wrong).status_code == 200
    assert app_client.get("/v1/admin/monitoring").status_code == 401
    body = app_client.get("/v1/admin/monitoring", headers={"X-API-Key": STRONG_KEY}).json()
    (model,) = body["models"]
    assert model["name"] == "m" and model["version"] == 1
    assert sum(d["count"] for d in model["per_day"]) == 2
    assert sum(model["train_distribution"].values()) > 0
    assert model["disagreement"][first["top"]["label"]] == {"feedback": 1, "wrong": 1, "rate": 1.0}


def test_a_promotion_is_served_after_reload_without_failing_requests(
    app_client: TestClient, registry: Registry
) -> None:
    audio = wav_bytes()
    assert _predict(app_client, audio)["version"] == 1

    def one(_: int) -> tuple[int, int | None]:
        r = app_client.post("/v1/predict", files={"file": ("a.wav", audio, "audio/wav")})
        return r.status_code, r.json()["results"][0]["version"] if r.status_code == 200 else None

    with ThreadPoolExecutor(4) as executor:
        futures = [executor.submit(one, i) for i in range(40)]
        for target in (2, 1, 2):
            registry.promote("m", target)
            reload = app_client.post("/v1/admin/reload", headers={"X-API-Key": STRONG_KEY})
            assert reload.status_code == 200 and reload.json()["models"] == ["m"]
        answers = [f.result() for f in futures]
    assert all(status == 200 for status, _ in answers)
    assert _predict(app_client, audio)["version"] == 2


def test_a_reload_with_no_production_version_keeps_serving(
    app_client: TestClient, db_url: str
) -> None:
    with session_factory(db_url).begin() as s:
        s.execute(update(ModelVersion).values(stage="archived"))
    reload = app_client.post("/v1/admin/reload", headers={"X-API-Key": STRONG_KEY})
    assert reload.status_code == 500 and "previous models stay loaded" in reload.text
    assert _predict(app_client, wav_bytes())["version"] == 1
