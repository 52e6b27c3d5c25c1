"""Per-session speaker normalisation: the store's bounds and the `?session=` API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from audioclf.audio import load
from audioclf.features.speaker_norm import NormStats, RunningStats
from audioclf.formats.manifest import Clip, read_manifest
from audioclf.inference.predictor import Predictor
from audioclf.service.app import create_app
from audioclf.service.sessions import SessionIdError, SessionStore, check_session_id
from audioclf.service.settings import Settings
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus

TRAINING = NormStats(np.zeros(3), np.ones(3))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_session_statistics_equal_the_offline_ones_after_min_clips() -> None:
    store = SessionStore(min_clips=3)
    rows = np.random.default_rng(0).normal(2.0, 3.0, (4, 3))
    answers = [store.standardise("s", "m", row, TRAINING) for row in rows]
    assert [a[1].statistics for a in answers] == ["training", "training", "session", "session"]
    assert [a[1].session_clips for a in answers] == [1, 2, 3, 4]
    np.testing.assert_allclose(answers[0][0], TRAINING.apply(rows[:1]))
    expected = NormStats.of(rows).apply(rows[3:])
    np.testing.assert_allclose(answers[3][0], expected, atol=1e-6)


def test_no_session_uses_the_training_statistics_and_keeps_nothing() -> None:
    store = SessionStore()
    x, normalised = store.standardise(None, "m", np.array([1.0, 2.0, 3.0]), TRAINING)
    assert normalised.statistics == "training" and normalised.session_clips is None
    np.testing.assert_allclose(x, [[1.0, 2.0, 3.0]])
    assert len(store) == 0


def test_two_sessions_and_two_models_do_not_mix() -> None:
    store = SessionStore(min_clips=2)
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, (3, 3)), rng.normal(50, 9, (2, 3))
    for row in a[:2]:
        store.standardise("a", "m", row, TRAINING)
    store.standardise("b", "m", b[0], TRAINING)
    store.standardise("a", "other", b[0], TRAINING)
    x, _ = store.standardise("a", "m", a[2], TRAINING)
    np.testing.assert_allclose(x, NormStats.of(a).apply(a[2:]), atol=1e-6)
    assert store.clips("a", "m") == 3 and store.clips("a", "other") == 1
    assert store.clips("b", "m") == 1


def test_sessions_expire_after_the_ttl() -> None:
    clock = Clock()
    store = SessionStore(ttl_seconds=10, clock=clock)
    store.standardise("old", "m", np.ones(3), TRAINING)
    clock.now = 6
    store.standardise("new", "m", np.ones(3), TRAINING)
    clock.now = 11
    assert "old" not in store and "new" in store
    clock.now = 17
    assert len(store) == 0


def test_the_least_recently_used_session_goes_past_max_sessions() -> None:
    store = SessionStore(max_sessions=2)
    for name in ("a", "b", "a", "c"):
        store.standardise(name, "m", np.ones(3), TRAINING)
    assert "a" in store and "c" in store and "b" not in store and len(store) == 2


def test_a_reloaded_model_with_other_features_starts_again() -> None:
    store = SessionStore()
    store.standardise("s", "m", np.ones(3), TRAINING)
    store.standardise("s", "m", np.ones(4), NormStats(np.zeros(4), np.ones(4)))
    assert store.clips("s", "m") == 1


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "semi;colon", "naïve", "a/b"])
def test_bad_session_ids_are_refused(bad: str) -> None:
    with pytest.raises(SessionIdError, match="1 to 64 characters"):
        check_session_id(bad)


def test_store_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="min_clips"):
        SessionStore(min_clips=1)


def _arrays(obj: Any, seen: set[int] | None = None) -> Iterator[np.ndarray]:
    """Every numpy array reachable from ``obj`` through attributes and containers."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _arrays(value, seen)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _arrays(value, seen)
    elif hasattr(obj, "__dict__"):
        yield from _arrays(vars(obj), seen)


# --- the API ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def norm_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A logreg run trained with speaker normalisation, and its corpus manifest."""
    root = tmp_path_factory.mktemp("session_run")
    old_cache = os.environ.get("AUDIOCLF_CACHE")
    os.environ["AUDIOCLF_CACHE"] = str(root / "cache")
    try:
        manifest = make_corpus(root / "corpus", speakers=5, per_class=3)
        config = TrainConfig.build({"data": str(manifest), "model": "logreg", "speaker_norm": True})
        run = train_run(config, root / "norm", progress=False, web=False).run_dir
    finally:
        if old_cache is None:
            os.environ.pop("AUDIOCLF_CACHE", None)
        else:
            os.environ["AUDIOCLF_CACHE"] = old_cache
    return run, manifest


@pytest.fixture(scope="module")
def session_client(norm_run: tuple[Path, Path]) -> Iterator[TestClient]:
    """One app for the module (its decoding processes start once); each test uses
    session ids of its own."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        runs=[norm_run[0]],
        rate_limit_per_minute=0,
        session_min_clips=3,
        max_sessions=2,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _post(client: TestClient, clip: Clip, session: str | None = None) -> dict[str, Any]:
    params = {"session": session} if session is not None else {}
    response = client.post(
        "/v1/predict",
        params=params,
        content=Path(clip.path).read_bytes(),
        headers={"content-type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def _speaker_clips(manifest: Path, speaker: str) -> list[Clip]:
    return [c for c in read_manifest(manifest) if c.speaker == speaker]


def _offline(run: Path, clips: list[Clip]) -> np.ndarray:
    """What `audioclf evaluate` gives these clips: one speaker's clips standardised together."""
    predictor = Predictor(run)
    waves = [load(c.path, predictor.sample_rate) for c in clips]
    return predictor.predict_proba(waves, speakers=[c.speaker for c in clips])


def _probs(result: dict[str, Any]) -> np.ndarray:
    return np.array([result["probabilities"][label] for label in result["labels"]])


def test_a_session_answers_as_offline_speaker_normalisation(
    session_client: TestClient, norm_run: tuple[Path, Path]
) -> None:
    run, manifest = norm_run
    mine, other = _speaker_clips(manifest, "spk1"), _speaker_clips(manifest, "spk3")
    answers = []
    for a, b in zip(mine, other, strict=True):  # two sessions interleaved
        answers.append(_post(session_client, a, "speaker-1"))
        _post(session_client, b, "speaker.3")
    norms = [a["speaker_norm"] for a in answers]
    assert [n["statistics"] for n in norms] == ["training"] * 2 + ["session"] * 4
    assert [n["session_clips"] for n in norms] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(_probs(answers[-1]), _offline(run, mine)[-1], atol=1e-5)
    assert "speaker_norm" in answers[-1]["timing_ms"]["stages"]


def test_without_a_session_the_training_statistics_are_used(
    session_client: TestClient, norm_run: tuple[Path, Path]
) -> None:
    run, manifest = norm_run
    clip = read_manifest(manifest)[0]
    result = _post(session_client, clip)
    assert result["speaker_norm"] == {"statistics": "training", "session_clips": None}
    predictor = Predictor(run)
    alone = predictor.predict_proba([load(clip.path, predictor.sample_rate)])[0]
    np.testing.assert_allclose(_probs(result), alone, atol=1e-5)


def test_sessions_are_bounded_and_keep_no_audio(
    session_client: TestClient, norm_run: tuple[Path, Path]
) -> None:
    _, manifest = norm_run
    clip = read_manifest(manifest)[0]
    for name in ("a", "b", "c"):
        _post(session_client, clip, name)
    store: SessionStore = session_client.app.state.pool.sessions  # type: ignore[attr-defined]
    assert len(store) == 2 and "a" not in store
    dim = len(Predictor(norm_run[0]).norm_stats.mean)  # type: ignore[union-attr]
    kept = list(_arrays(store))
    assert kept and all(a.shape == (dim,) for a in kept)
    assert all(isinstance(s, RunningStats) for s in _stats_objects(store))


def _stats_objects(store: SessionStore) -> list[Any]:
    return [stats for session in store._sessions.values() for stats in session.models.values()]


@pytest.mark.parametrize("bad", ["x" * 65, "two words", "a/b"])
def test_a_bad_session_id_is_a_400(session_client: TestClient, bad: str) -> None:
    response = session_client.post(
        "/v1/predict",
        params={"session": bad},
        content=b"RIFF",
        headers={"content-type": "application/octet-stream"},
    )
    assert response.status_code == 400
    assert "session must be" in response.json()["detail"]


def test_a_live_stream_counts_its_windows_into_its_session(
    session_client: TestClient, norm_run: tuple[Path, Path]
) -> None:
    clip = read_manifest(norm_run[1])[0]
    y = load(clip.path, 16_000)
    y = np.tile(y, 4)[: 16_000 * 2]  # 2 s: four windows at the 0.5 s hop
    with session_client.websocket_connect("/v1/stream?session=live-1") as ws:
        for chunk in np.array_split(y, 8):
            ws.send_bytes(chunk.astype("<f4").tobytes())
        messages = [ws.receive_json() for _ in range(4)]
    assert all(set(m["probabilities"]) == {"high", "low"} for m in messages)
    store: SessionStore = session_client.app.state.pool.sessions  # type: ignore[attr-defined]
    assert store.clips("live-1", "norm") == 4


def test_a_live_stream_with_a_bad_session_id_is_closed(session_client: TestClient) -> None:
    with (
        session_client.websocket_connect("/v1/stream?session=no%20spaces") as ws,
        pytest.raises(WebSocketDisconnect) as err,
    ):
        ws.receive_json()
    assert err.value.code == 1008 and "session must be" in err.value.reason
