"""The HTTP API end to end with real audio bytes: models, predict, errors, headers, metrics."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from tests.conftest import hour_of_silence_flac, tone
from tests.service.conftest import STRONG_KEY, wav_bytes


def test_models_lists_both_runs_with_metrics(client: TestClient) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200
    models = {m["name"]: m for m in r.json()["models"]}
    assert set(models) == {"cnn", "logreg"}
    cnn = models["cnn"]
    assert cnn["labels"] == ["high", "low"]
    assert cnn["model"] == "cnn2d_2" and cnn["sample_rate"] == 16000
    assert cnn["clip_seconds"] == pytest.approx(0.5)
    assert cnn["params"] > 0 and "task" in cnn
    assert set(cnn["metrics"]) == {"accuracy", "balanced_accuracy", "macro_f1"}
    assert isinstance(cnn["metrics"]["accuracy"], float)
    # the cost per second of audio the run measured on its test clips after training
    assert models["cnn"]["ms_per_audio_second"] > 0
    assert models["logreg"]["ms_per_audio_second"] > 0


def _check_result(result: dict[str, object], model: str) -> None:
    probs = result["probabilities"]
    assert isinstance(probs, dict)
    assert result["model"] == model and result["labels"] == ["high", "low"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    top = result["top"]
    assert isinstance(top, dict)
    assert top["label"] == max(probs, key=probs.__getitem__)
    assert top["probability"] == pytest.approx(max(probs.values()))
    timing = result["timing_ms"]
    assert isinstance(timing, dict) and timing["inference"] >= 0


def test_predict_all_multipart(client: TestClient) -> None:
    r = client.post("/v1/predict", files={"file": ("clip.wav", wav_bytes(), "audio/wav")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duration_seconds"] == pytest.approx(0.6, abs=0.01)
    assert [res["model"] for res in body["results"]] == ["cnn", "logreg"]
    for res in body["results"]:
        _check_result(res, res["model"])
    assert body["timing_ms"]["total"] >= body["timing_ms"]["decode"] >= 0
    # each model's time by stage, as the run's cost names them
    stages = {res["model"]: res["timing_ms"]["stages"] for res in body["results"]}
    assert set(stages["cnn"]) == {"resample", "crops", "model"}
    assert set(stages["logreg"]) == {"resample", "pooled@1", "model"}
    for res in body["results"]:
        timing = res["timing_ms"]
        assert all(ms >= 0 for ms in timing["stages"].values())
        assert timing["stages"]["model"] > 0
        batch = sum(ms for name, ms in timing["stages"].items() if name != "resample")
        assert batch <= timing["inference"] + 0.01


def test_predict_one_model_raw_ogg_body(client: TestClient) -> None:
    data = wav_bytes(tone(1.0, 44_100), 44_100, fmt="OGG")
    r = client.post("/v1/predict?model=cnn", content=data, headers={"content-type": "audio/ogg"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [res["model"] for res in body["results"]] == ["cnn"]
    assert body["duration_seconds"] == pytest.approx(1.0, abs=0.05)


def test_predict_many_channels_high_rate(client: TestClient) -> None:
    y = np.tile(tone(0.5, 96_000)[:, None], (1, 8))
    buffer = io.BytesIO()
    sf.write(buffer, y, 96_000, format="WAV")
    r = client.post("/v1/predict?model=logreg", content=buffer.getvalue())
    assert r.status_code == 200, r.text


def test_unknown_model_is_404_listing_models(client: TestClient) -> None:
    r = client.post("/v1/predict?model=nope", content=wav_bytes())
    assert r.status_code == 404
    assert "nope" in r.json()["detail"] and "cnn, logreg" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"", 422, "empty"),
        (b"this is plainly not audio at all, just some text" * 4, 415, "not a recognised"),
    ],
)
def test_unreadable_bodies_explain_why(
    client: TestClient, body: bytes, status: int, reason: str
) -> None:
    r = client.post("/v1/predict", content=body)
    assert r.status_code == status
    assert reason in r.json()["detail"]


def test_truncated_wav_is_422(client: TestClient) -> None:
    data = wav_bytes(tone(1.0))
    r = client.post("/v1/predict", content=data[: len(data) // 2])
    assert r.status_code == 422
    assert "truncated" in r.json()["detail"]


def test_missing_file_field_is_400(client: TestClient) -> None:
    r = client.post("/v1/predict", files={"audio": ("a.wav", wav_bytes(), "audio/wav")})
    assert r.status_code == 400
    assert "'file'" in r.json()["detail"]


def test_content_type_is_ignored_audio_found_by_content(client: TestClient) -> None:
    r = client.post("/v1/predict", content=wav_bytes(), headers={"content-type": "text/plain"})
    assert r.status_code == 200
    r = client.post("/v1/predict", data={"file": "abc"})  # a form, not audio
    assert r.status_code == 415 and "not a recognised audio format" in r.json()["detail"]


def test_oversized_upload_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_upload_bytes=10_000, rate_limit_per_minute=0)
    r = client.post("/v1/predict", content=wav_bytes(tone(1.0)))
    assert r.status_code == 413
    assert "10000 bytes" in r.json()["detail"]


def test_too_long_audio_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_audio_seconds=1.0, rate_limit_per_minute=0)
    r = client.post("/v1/predict", content=wav_bytes(np.zeros(16_000 * 3, np.float32)))
    assert r.status_code == 413
    assert "longer than allowed" in r.json()["detail"]


def test_hour_long_upload_is_413_with_default_limits(client: TestClient) -> None:
    r = client.post("/v1/predict", files={"file": ("call.flac", hour_of_silence_flac())})
    assert r.status_code == 413
    assert "3600.0 s" in r.json()["detail"]


def test_rate_limit_429_then_recovery(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_per_minute=2)
    data = wav_bytes()
    assert [client.post("/v1/predict", content=data).status_code for _ in range(2)] == [200, 200]
    r = client.post("/v1/predict", content=data)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "rate limit" in r.json()["detail"]
    assert client.get("/healthz").status_code == 200  # health is never limited
    limiter = client.app.state.limiter  # type: ignore[attr-defined]
    limiter.clock = lambda: 10**9  # a minute later
    assert client.post("/v1/predict", content=data).status_code == 200


def test_bad_query_parameter_is_400(client: TestClient) -> None:
    r = client.post("/v1/predict/timeline?model=cnn&window=-1", content=wav_bytes())
    assert r.status_code == 400
    assert "window" in r.json()["detail"]


def test_health_and_readiness(client: TestClient, make_client: Callable[..., TestClient]) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "training": False}
    assert client.get("/readyz").json() == {"status": "ready", "models": ["cnn", "logreg"]}
    empty = make_client(runs=[])
    r = empty.get("/readyz")
    assert r.status_code == 503 and "no model" in r.json()["detail"]


def test_metrics_count_requests(client: TestClient) -> None:
    client.post("/v1/predict", content=wav_bytes())
    client.post("/v1/predict?model=nope", content=wav_bytes())
    text = client.get("/metrics").text
    assert 'audioclf_requests_total{method="POST",route="/v1/predict",status="200"} 1.0' in text
    assert 'audioclf_requests_total{method="POST",route="/v1/predict",status="404"} 1.0' in text
    assert "audioclf_request_seconds_bucket" in text
    assert 'audioclf_model_loaded{model="cnn"} 1.0' in text


def test_admin_reload_key_checks(make_client: Callable[..., TestClient]) -> None:
    disabled = make_client()
    r = disabled.post("/v1/admin/reload", headers={"X-API-Key": STRONG_KEY})
    assert r.status_code == 403 and "admin API disabled" in r.json()["detail"]
    client = make_client(api_key=STRONG_KEY)
    assert client.post("/v1/admin/reload").status_code == 401
    assert client.post("/v1/admin/reload", headers={"X-API-Key": "wrong"}).status_code == 401
    r = client.post("/v1/admin/reload", headers={"X-API-Key": STRONG_KEY})
    assert r.status_code == 200 and r.json() == {"models": ["cnn", "logreg"]}
    assert client.post("/v1/predict", content=wav_bytes()).status_code == 200


def test_security_headers_everywhere(client: TestClient) -> None:
    for r in (client.get("/healthz"), client.post("/v1/predict?model=nope", content=b"x")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "media-src 'self' blob:" in csp
        assert r.headers["permissions-policy"] == "microphone=(self)"


def test_cors_off_by_default_on_when_configured(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    origin = {"Origin": "https://app.example"}
    assert "access-control-allow-origin" not in client.get("/v1/models", headers=origin).headers
    cors = make_client(cors_origins=["https://app.example"])
    r = cors.get("/v1/models", headers=origin)
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    other = cors.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_schema_documents_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/models", "/v1/predict", "/v1/predict/timeline", "/v1/admin/reload"):
        assert path in schema["paths"], path
    predict = schema["paths"]["/v1/predict"]["post"]
    assert "multipart/form-data" in predict["requestBody"]["content"]
    assert {"413", "415", "429"} <= set(predict["responses"])


def test_slow_decoding_times_out(make_client: Callable[..., TestClient]) -> None:
    from audioclf.service.decode import DecodePool
    from tests.service.decoders import sleepy

    client = make_client(decode_timeout_seconds=0.5, rate_limit_per_minute=0)
    app = client.app
    app.state.decoder.close()  # type: ignore[attr-defined]
    app.state.decoder = DecodePool(1, 2**31, function=sleepy)  # type: ignore[attr-defined]
    r = client.post("/v1/predict", content=wav_bytes())
    assert r.status_code == 422
    assert "decoding took longer than 0.5 s" in r.json()["detail"]


def test_predict_without_models_is_503(make_client: Callable[..., TestClient]) -> None:
    r = make_client(runs=[]).post("/v1/predict", content=wav_bytes())
    assert r.status_code == 503 and "no model" in r.json()["detail"]


def test_an_ensemble_run_is_served_like_any_run(
    make_client: Callable[..., TestClient], runs: list[Path], tmp_path: Path
) -> None:
    from audioclf.train.ensemble import build_ensemble

    build_ensemble(runs, tmp_path / "both", progress=False)
    client = make_client(runs=[*runs, tmp_path / "both"], rate_limit_per_minute=0)
    listed = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert listed["both"]["model"] == "ensemble"
    # the members share their test split, so the ensemble was scored on it
    assert listed["both"]["metrics"]["accuracy"] is not None
    r = client.post("/v1/predict", files={"file": ("clip.wav", wav_bytes(), "audio/wav")})
    assert r.status_code == 200, r.text
    results = {res["model"]: res for res in r.json()["results"]}
    _check_result(results["both"], "both")
    stages = results["both"]["timing_ms"]["stages"]
    assert {"1-cnn/model", "2-logreg/pooled@1", "2-logreg/model", "combine"} <= set(stages)
    # the product of the members' probabilities, renormalised
    members = [results["cnn"]["probabilities"], results["logreg"]["probabilities"]]
    product = {k: (members[0][k] * members[1][k]) ** 0.5 for k in members[0]}
    total = sum(product.values())
    for label, p in results["both"]["probabilities"].items():
        assert p == pytest.approx(product[label] / total, abs=1e-4)
