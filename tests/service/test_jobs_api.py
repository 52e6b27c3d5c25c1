"""Training over HTTP: datasets and their clips, jobs run in processes of their own,
progress as server-sent events, cancelling, a restart mid-job, and the model of a done
job answering at once."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from audioclf.formats.manifest import read_manifest
from audioclf.registry import Registry
from audioclf.registry.schedules import set_schedule
from audioclf.registry.tables import ScheduleRow, utcnow
from tests.conftest import tone
from tests.service.conftest import STRONG_KEY, wav_bytes

KEY = {"X-API-Key": STRONG_KEY}
ENDED = ("done", "failed", "cancelled")
SLOW_JOB = {"model": "cnn2d_2", "epochs": 60, "time_budget_minutes": None}

pytestmark = pytest.mark.xdist_group("training-jobs")  # jobs are processes: not all at once


@pytest.fixture
def training_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "training": True,
        "api_key": STRONG_KEY,
        "db_url": f"sqlite:///{tmp_path / 'registry.db'}",
        "datasets_dir": tmp_path / "datasets",
        "job_runs_dir": tmp_path / "job-runs",
        "job_min_clips_per_class": 2,
        "rate_limit_per_minute": 0,
    }


@pytest.fixture
def client(make_client: Callable[..., TestClient], training_settings: dict[str, Any]) -> TestClient:
    return make_client(**training_settings)


def noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.2 * rng.standard_normal(int(16_000 * seconds))).astype(np.float32)


def make_dataset(client: TestClient, name: str = "demo", per_class: int = 4) -> str:
    """A two-class dataset (tones, noise) of three speakers."""
    made = client.post(
        "/v1/datasets", json={"name": name, "classes": ["tone", "noise"]}, headers=KEY
    )
    assert made.status_code == 201, made.text
    dataset = made.json()["id"]
    for i in range(per_class):
        speaker = f"s{i % 3}"
        for label, audio in (("tone", tone(1.0, freq=300 + 60 * i)), ("noise", noise(seed=i))):
            added = client.post(
                f"/v1/datasets/{dataset}/clips",
                params={"label": label, "speaker": speaker},
                content=wav_bytes(audio),
                headers=KEY,
            )
            assert added.status_code == 201, added.text
    return dataset


def wait_for(client: TestClient, job: str, until: Callable[[dict[str, Any]], bool]) -> dict:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        info = client.get(f"/v1/jobs/{job}", headers=KEY).json()
        if until(info):
            return info
        time.sleep(0.3)
    raise AssertionError(f"job {job} never got there: {info}")


def ended(info: dict[str, Any]) -> bool:
    return info["state"] in ENDED


def training(info: dict[str, Any]) -> bool:
    return info["state"] == "running" and "epoch" in info["stage"]


def test_routes_are_absent_when_training_is_off(make_client: Callable[..., TestClient]) -> None:
    off = make_client(api_key=STRONG_KEY)
    assert off.get("/v1/datasets", headers=KEY).status_code == 404
    assert off.post("/v1/jobs", json={}, headers=KEY).status_code == 404


def test_routes_need_the_admin_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "training": True}
    assert client.get("/v1/datasets").status_code == 401
    assert client.get("/v1/jobs", headers={"X-API-Key": "wrong"}).status_code == 401


def test_a_dataset_is_built_listed_and_downloaded(client: TestClient, tmp_path: Path) -> None:
    dataset = make_dataset(client, per_class=2)
    info = client.get(f"/v1/datasets/{dataset}", headers=KEY).json()
    assert info["counts"] == {"tone": 2, "noise": 2} and info["speakers"] == ["s0", "s1"]
    assert info["limits"]["min_clips_per_class"] == 2 and info["active_job"] is None
    assert [d["id"] for d in client.get("/v1/datasets", headers=KEY).json()["datasets"]] == [
        dataset
    ]
    multipart = client.post(
        f"/v1/datasets/{dataset}/clips?label=tone",
        files={"file": ("a.flac", wav_bytes(tone(0.5), fmt="FLAC"), "audio/flac")},
        headers=KEY,
    )
    assert multipart.status_code == 201 and multipart.json()["speaker"] is None
    clips = client.get(f"/v1/datasets/{dataset}/clips", headers=KEY).json()["clips"]
    assert len(clips) == 5 and clips[-1]["seconds"] == 0.5
    audio = client.get(f"/v1/datasets/{dataset}/clips/{clips[0]['id']}", headers=KEY)
    assert audio.headers["content-type"] == "audio/flac" and audio.content[:4] == b"fLaC"

    manifest = client.get(f"/v1/datasets/{dataset}/manifest", headers=KEY)
    rows = [json.loads(line) for line in manifest.text.splitlines()]
    assert [r["path"] for r in rows] == [f"clips/{c['id']}.flac" for c in clips]
    archive = client.get(f"/v1/datasets/{dataset}/archive", headers=KEY)
    assert archive.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(archive.content)).extractall(tmp_path / "unzipped")
    assert len(read_manifest(tmp_path / "unzipped" / "manifest.jsonl")) == 5

    assert (
        client.delete(f"/v1/datasets/{dataset}/clips/{clips[0]['id']}", headers=KEY).status_code
        == 204
    )
    assert client.get(f"/v1/datasets/{dataset}", headers=KEY).json()["clips"] == 4
    assert client.delete(f"/v1/datasets/{dataset}", headers=KEY).status_code == 204
    assert client.get(f"/v1/datasets/{dataset}", headers=KEY).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"name": "x y", "classes": ["a", "b"]}, 400, "invalid dataset name"),
        ({"name": "x", "classes": ["a"]}, 400, "at least two classes"),
        ({"name": "x", "classes": ["a", "a"]}, 400, "given twice"),
        ({"name": "x"}, 400, "classes"),
        ({"name": "x", "classes": ["a", "b"], "extra": 1}, 400, "extra"),
    ],
)
def test_bad_datasets_are_refused(
    client: TestClient, body: dict[str, Any], status: int, needle: str
) -> None:
    answer = client.post("/v1/datasets", json=body, headers=KEY)
    assert answer.status_code == status and needle in answer.json()["detail"]


def test_bad_clips_are_refused_and_nothing_is_kept(client: TestClient, tmp_path: Path) -> None:
    dataset = make_dataset(client, per_class=1)
    url = f"/v1/datasets/{dataset}/clips"
    cases = [
        (
            {"label": "cat"},
            wav_bytes(),
            400,
            "unknown class 'cat'; the dataset's classes are tone, noise",
        ),
        ({"label": "tone"}, b"not audio at all" * 20, 415, ""),
        ({"label": "tone"}, wav_bytes()[:60], 422, ""),
        ({"label": "tone"}, wav_bytes(tone(31.0)), 413, ""),
        ({"label": "tone", "speaker": " padded"}, wav_bytes(), 400, "invalid speaker name"),
    ]
    for params, body, status, needle in cases:
        answer = client.post(url, params=params, content=body, headers=KEY)
        assert answer.status_code == status, (params, answer.text)
        assert needle in answer.json()["detail"]
    assert (
        client.post(
            "/v1/datasets/nope/clips?label=tone", content=wav_bytes(), headers=KEY
        ).status_code
        == 404
    )
    assert client.get(f"/v1/datasets/{dataset}", headers=KEY).json()["clips"] == 2
    assert len(list((tmp_path / "datasets" / dataset / "clips").iterdir())) == 2


def test_bad_jobs_are_refused(client: TestClient) -> None:
    empty = client.post("/v1/datasets", json={"name": "empty", "classes": ["a", "b"]}, headers=KEY)
    cases = [
        ({"dataset": empty.json()["id"]}, 400, "no clips"),
        ({"dataset": "nope"}, 404, "no dataset"),
        ({"dataset": make_dataset(client, "thin", per_class=1)}, 400, "at least 2 clips"),
        ({"dataset": make_dataset(client, per_class=2), "model": "nope"}, 400, "unknown model"),
        ({"dataset": "x", "time_budget_minutes": 999}, 400, "at most 30"),
        ({"dataset": "x", "split": "sideways"}, 400, "split"),
    ]
    for body, status, needle in cases:
        answer = client.post("/v1/jobs", json=body, headers=KEY)
        assert answer.status_code == status, (body, answer.text)
        assert needle in answer.json()["detail"]


def test_a_name_served_from_elsewhere_is_a_conflict(client: TestClient) -> None:
    dataset = make_dataset(client, name="logreg", per_class=2)  # the served run's name
    answer = client.post("/v1/jobs", json={"dataset": dataset}, headers=KEY)
    assert answer.status_code == 409 and "already served" in answer.json()["detail"]


def test_a_done_job_serves_its_model_at_once_promotes_and_retrains_on_a_schedule(
    client: TestClient, tmp_path: Path
) -> None:
    dataset = make_dataset(client)
    queued = client.post("/v1/jobs", json={"dataset": dataset, "model": "logreg"}, headers=KEY)
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert (
        job["state"] == "queued" and job["model"] == "demo" and job["options"]["split"] == "speaker"
    )
    assert client.get(f"/v1/datasets/{dataset}", headers=KEY).json()["active_job"] == job["id"]

    events = []
    with client.stream("GET", f"/v1/jobs/{job['id']}/events", headers=KEY) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    states = [e["state"] for e in events]
    assert states[-1] == "done" and "running" in states
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0

    done = events[-1]
    assert done["served"] and done["run"].startswith("demo-")
    metrics = done["metrics"]
    assert metrics["labels"] == ["noise", "tone"] and metrics["n_test"] > 0
    assert np.array(metrics["confusion"]).sum() == metrics["n_test"]
    answer = client.post("/v1/predict?model=demo", content=wav_bytes(noise(seed=9)))
    assert answer.status_code == 200
    assert answer.json()["results"][0]["top"]["label"] == "noise"

    promoted = client.post(f"/v1/jobs/{job['id']}/promote", headers=KEY)
    assert promoted.json() == {"name": "demo", "version": 1, "stage": "production"}
    assert client.get(f"/v1/jobs/{job['id']}", headers=KEY).json()["version"] == 1
    assert client.post(f"/v1/jobs/{job['id']}/promote", headers=KEY).json()["version"] == 1
    assert client.delete(f"/v1/jobs/{job['id']}", headers=KEY).status_code == 409

    # retraining on a schedule: a due schedule is queued by the runner, its attempt shown
    sessions = client.app.state.training.queue.sessions  # type: ignore[attr-defined]
    data = tmp_path / "job-runs" / done["run"] / "data.jsonl"
    set_schedule(sessions, "demo", str(data), 3600, 0.0)
    with sessions.begin() as session:
        session.execute(update(ScheduleRow).values(next_run=utcnow() - timedelta(seconds=1)))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        retrains = client.get("/v1/admin/retrains", headers=KEY).json()
        if retrains["attempts"] and retrains["attempts"][0]["state"] in ENDED:
            break
        time.sleep(0.5)
    (attempt,) = retrains["attempts"]
    assert attempt["state"] == "done", attempt
    assert attempt["production_version"] == 1 and attempt["candidate_version"] == 2
    assert attempt["candidate_score"] is not None and isinstance(attempt["promoted"], bool)
    (schedule,) = retrains["schedules"]
    assert schedule["name"] == "demo" and schedule["every_seconds"] == 3600


def test_a_running_job_is_cancelled_and_its_dataset_is_frozen(client: TestClient) -> None:
    dataset = make_dataset(client)
    clips = client.get(f"/v1/datasets/{dataset}/clips", headers=KEY).json()["clips"]
    job = client.post("/v1/jobs", json={"dataset": dataset, **SLOW_JOB}, headers=KEY).json()
    assert client.post(f"/v1/jobs/{job['id']}/promote", headers=KEY).status_code == 409
    frozen = client.delete(f"/v1/datasets/{dataset}/clips/{clips[0]['id']}", headers=KEY)
    assert frozen.status_code == 409 and "trains on this clip" in frozen.json()["detail"]
    assert client.delete(f"/v1/datasets/{dataset}", headers=KEY).status_code == 409
    added = client.post(
        f"/v1/datasets/{dataset}/clips?label=tone", content=wav_bytes(), headers=KEY
    )
    assert added.status_code == 201  # recording goes on while it trains

    wait_for(client, job["id"], training)
    assert client.delete(f"/v1/jobs/{job['id']}", headers=KEY).status_code == 200
    cancelled = wait_for(client, job["id"], ended)
    assert cancelled["state"] == "cancelled" and cancelled["error"] == "cancelled while it ran"
    assert not cancelled["served"]
    assert (
        client.delete(f"/v1/datasets/{dataset}/clips/{clips[0]['id']}", headers=KEY).status_code
        == 204
    )


def test_a_job_interrupted_by_a_restart_resumes(
    make_client: Callable[..., TestClient], training_settings: dict[str, Any]
) -> None:
    first = make_client(**training_settings)
    dataset = make_dataset(first)
    job = first.post("/v1/jobs", json={"dataset": dataset, **SLOW_JOB}, headers=KEY).json()
    wait_for(first, job["id"], training)
    first.__exit__(None, None, None)  # the server stops mid-job

    second = make_client(**training_settings)
    done = wait_for(second, job["id"], ended)
    assert done["state"] == "done", done
    assert any("interrupted: its server stopped" in note for note in done["notes"])
    assert done["served"]
    assert second.post("/v1/predict?model=demo", content=wav_bytes()).status_code == 200


def test_a_failing_job_says_why(client: TestClient, tmp_path: Path) -> None:
    manifest = tmp_path / "broken.jsonl"
    manifest.write_text(
        "".join(
            json.dumps(
                {"id": f"c{i}", "path": str(tmp_path / f"missing{i}.wav"), "label": "ab"[i % 2]}
            )
            + "\n"
            for i in range(6)
        )
    )
    job = client.post(
        "/v1/jobs",
        json={"manifest": str(manifest), "model": "logreg", "split": "random"},
        headers=KEY,
    ).json()
    failed = wait_for(client, job["id"], ended)
    assert failed["state"] == "failed" and failed["error"], failed
    assert not failed["served"]


def test_a_promotion_elsewhere_is_served_without_a_reload(
    make_client: Callable[..., TestClient], training_settings: dict[str, Any], runs: list[Path]
) -> None:
    registry = Registry(training_settings["db_url"])
    registry.add(runs[1], "m")
    registry.add(runs[0], "m")
    registry.promote("m", 1)
    client = make_client(**training_settings, runs=[], registry=["m"])
    pool = client.app.state.pool  # type: ignore[attr-defined]
    assert pool.versions == {"m": 1}
    registry.promote("m", 2)  # as a scheduled retrain (or the CLI) does
    deadline = time.monotonic() + 30
    while pool.versions != {"m": 2} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pool.versions == {"m": 2}
    assert client.post("/v1/predict?model=m", content=wav_bytes()).status_code == 200


def test_event_streams_are_bounded(
    make_client: Callable[..., TestClient], training_settings: dict[str, Any]
) -> None:
    client = make_client(**training_settings, max_streams_per_client=1)
    dataset = make_dataset(client, per_class=2)
    job = client.post("/v1/jobs", json={"dataset": dataset, "model": "logreg"}, headers=KEY)
    events = f"/v1/jobs/{job.json()['id']}/events"
    slots = client.app.state.streams  # type: ignore[attr-defined]
    assert slots.acquire("testclient") is None  # as a live stream of this client would
    refused = client.get(events, headers=KEY)
    assert refused.status_code == 503 and "1 long-lived streams open" in refused.json()["detail"]
    slots.release("testclient")
    assert client.get(events, headers=KEY).status_code == 200  # to the job's end
    assert slots.open == 0  # the stream gave its slot back
