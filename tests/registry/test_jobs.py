"""The job queue and retraining schedules: claiming, cancelling, recovery after a
restart, the queue's bound, and schedules claimed once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update

from audioclf.registry.db import RegistryError, session_factory
from audioclf.registry.jobs import RETRAIN, TRAIN, JobConflictError, JobQueue, QueueFullError
from audioclf.registry.schedules import (
    claim_due,
    list_schedules,
    parse_every,
    remove_schedule,
    set_schedule,
)
from audioclf.registry.tables import JobRow, ScheduleRow, utcnow


@pytest.fixture
def queue(db_url: str) -> JobQueue:
    return JobQueue(session_factory(db_url), max_queued=3)


def test_jobs_are_claimed_oldest_first_and_end_once(queue: JobQueue) -> None:
    first = queue.submit(TRAIN, "a", {"model": "logreg"})
    second = queue.submit(TRAIN, "b", {})
    claimed = queue.claim("me")
    assert claimed is not None and claimed.id == first.id
    assert claimed.state == "running" and claimed.attempts == 1 and claimed.started
    queue.report(first.id, "training", 0.5)
    queue.report(first.id, "testing", 0.2)  # progress never goes down
    assert queue.get(first.id).progress == 0.5
    assert queue.finish(first.id, "done", metrics={"accuracy": 1.0})
    assert not queue.finish(first.id, "failed", error="late")  # ended jobs stay ended
    done = queue.get(first.id)
    assert (done.state, done.progress, done.metrics) == ("done", 1.0, {"accuracy": 1.0})
    assert [j.id for j in queue.list()] == [second.id, first.id]


def test_two_runners_never_claim_the_same_job(queue: JobQueue) -> None:
    for name in "ab":
        queue.submit(TRAIN, name, {})
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda i: queue.claim(f"runner{i}"), range(4)))
    ids = [c.id for c in claims if c is not None]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_the_queue_is_bounded(queue: JobQueue) -> None:
    for _ in range(3):
        queue.submit(TRAIN, "a", {})
    with pytest.raises(QueueFullError, match="3 jobs are waiting"):
        queue.submit(TRAIN, "a", {})


def test_cancelling_queued_running_and_ended_jobs(queue: JobQueue) -> None:
    waiting = queue.submit(TRAIN, "a", {})
    running = queue.submit(TRAIN, "b", {})
    assert queue.cancel(waiting.id).state == "cancelled"
    assert queue.claim("me").id == running.id  # type: ignore[union-attr]
    flagged = queue.cancel(running.id)
    assert flagged.state == "running" and flagged.cancel_requested
    assert queue.cancel_requested(running.id)
    queue.finish(running.id, "cancelled", error="cancelled while it ran")
    with pytest.raises(JobConflictError, match="already ended"):
        queue.cancel(running.id)
    with pytest.raises(RegistryError, match="no job"):
        queue.get("nope")


def _stale(queue: JobQueue, job_id: str) -> None:
    with queue.sessions.begin() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(heartbeat=utcnow() - timedelta(minutes=5))
        )


def test_a_job_whose_runner_died_resumes_then_fails_after_its_attempts(queue: JobQueue) -> None:
    job = queue.submit(TRAIN, "a", {})
    queue.claim("dead runner")
    assert queue.recover(stale_seconds=60, max_attempts=2) == []  # heartbeat still fresh
    _stale(queue, job.id)
    again = queue.recover(stale_seconds=60, max_attempts=2)[0]
    assert again.state == "queued" and "resumed from its checkpoints" in again.notes[-1]
    assert queue.claim("new runner").attempts == 2  # type: ignore[union-attr]
    _stale(queue, job.id)
    failed = queue.recover(stale_seconds=60, max_attempts=2)[0]
    assert failed.state == "failed" and "interrupted 2 times" in (failed.error or "")


def test_a_stopping_runner_puts_its_job_back(queue: JobQueue) -> None:
    job = queue.submit(TRAIN, "a", {})
    queue.claim("me")
    assert queue.requeue(job.id, "interrupted: its server stopped")
    back = queue.get(job.id)
    assert back.state == "queued" and back.notes == ["interrupted: its server stopped"]
    assert queue.claim("me").id == job.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 604_800), ("12h", 43_200), ("30m", 1800), ("2w", 1_209_600)]
)
def test_every_is_read_in_minutes_to_weeks(text: str, seconds: int) -> None:
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["7", "soon", "10s", "0m"])
def test_a_bad_every_is_refused(text: str) -> None:
    with pytest.raises(RegistryError, match="--every"):
        parse_every(text)


def test_a_due_schedule_is_claimed_by_one_caller_once(queue: JobQueue) -> None:
    set_schedule(queue.sessions, "emotion", "/data/m.jsonl", 3600, 0.01)
    assert claim_due(queue.sessions) == []  # first run one period from now
    with queue.sessions.begin() as session:
        session.execute(update(ScheduleRow).values(next_run=utcnow() - timedelta(days=3)))
    with ThreadPoolExecutor(3) as pool:
        claims = [c for cs in pool.map(lambda _: claim_due(queue.sessions), range(3)) for c in cs]
    assert [c.name for c in claims] == ["emotion"]  # three missed periods: one run
    (schedule,) = list_schedules(queue.sessions)
    assert schedule.next_run > utcnow() + timedelta(minutes=59)
    assert remove_schedule(queue.sessions, "emotion")
    assert not remove_schedule(queue.sessions, "emotion")
    assert queue.submit(RETRAIN, "emotion", {"data": "/data/m.jsonl"}).kind == RETRAIN
