"""Feedback's order of writes: database row first, clip before commit, orphans swept."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audioclf.audio import Audio, AudioInfo
from audioclf.registry.db import session_factory
from audioclf.registry.feedback import FeedbackError, add_feedback, sweep_orphans
from audioclf.registry.predictions import audio_hash
from audioclf.registry.tables import FeedbackRow, PredictionRow

CLIP = b"the uploaded bytes"
DECODED = Audio(np.zeros(1600, np.float32), 16000, AudioInfo(16000, 1, 1600, "WAV"))


def _prediction(sessions: sessionmaker[Session]) -> str:
    pid = str(uuid.uuid4())
    with sessions.begin() as session:
        session.add(
            PredictionRow(
                id=pid,
                model_name="m",
                model_version=1,
                top_label="a",
                probabilities={"a": 1.0},
                latency_ms=1.0,
                audio_sha256=audio_hash(CLIP),
            )
        )
    return pid


def _give(sessions: sessionmaker[Session], pool: Path, pid: str) -> None:
    add_feedback(
        sessions,
        pool,
        prediction_id=pid,
        correct_label="a",
        consent=True,
        clip=CLIP,
        decoded=DECODED,
    )


def _manifest_ids(pool: Path) -> list[str]:
    lines = (pool / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line)["prediction_id"] for line in lines]


def test_a_failed_commit_leaves_an_orphan_that_the_sweeper_removes(
    db_url: str, tmp_path: Path
) -> None:
    sessions = session_factory(db_url)
    pool = tmp_path / "pool"
    kept = _prediction(sessions)
    _give(sessions, pool, kept)
    lost = _prediction(sessions)

    def fail(session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    event.listen(sessions, "before_commit", fail)
    try:
        with pytest.raises(OperationalError):
            _give(sessions, pool, lost)
    finally:
        event.remove(sessions, "before_commit", fail)
    with sessions() as session:
        assert session.scalars(select(FeedbackRow.prediction_id)).all() == [kept]
    assert _manifest_ids(pool) == [kept, lost]  # the clip was written before the commit

    assert sweep_orphans(sessions, pool) == []  # within the grace period: maybe in flight
    assert sweep_orphans(sessions, pool, grace_seconds=0) == [lost]
    assert _manifest_ids(pool) == [kept]
    assert sorted(p.stem for p in (pool / "clips").iterdir()) == [kept]


def test_the_sweeper_removes_clip_files_no_row_names(db_url: str, tmp_path: Path) -> None:
    sessions = session_factory(db_url)
    pool = tmp_path / "pool"
    kept = _prediction(sessions)
    _give(sessions, pool, kept)
    stray = pool / "clips" / "stray.flac"
    stray.write_bytes(b"left by a crash between file and manifest")
    sweep_orphans(sessions, pool, grace_seconds=0)
    assert not stray.exists() and (pool / "clips" / f"{kept}.flac").is_file()


def test_a_full_pool_rolls_the_feedback_back(db_url: str, tmp_path: Path) -> None:
    from audioclf.registry.feedback_pool import PoolQuota

    sessions = session_factory(db_url)
    pid = _prediction(sessions)
    with pytest.raises(FeedbackError) as err:
        add_feedback(
            sessions,
            tmp_path / "pool",
            prediction_id=pid,
            correct_label="a",
            consent=True,
            clip=CLIP,
            decoded=DECODED,
            quota=PoolQuota(max_bytes=10),
        )
    assert err.value.status == 507
    with sessions() as session:
        assert session.scalar(select(FeedbackRow)) is None
