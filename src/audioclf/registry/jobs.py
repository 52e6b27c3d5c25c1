"""The job queue in the registry database: training jobs and scheduled retrains.

A job is a row: queued → running → done, failed or cancelled. Whoever runs jobs takes
the oldest queued one with :meth:`JobQueue.claim` (a conditional UPDATE, atomic on SQLite
and PostgreSQL, so two servers never run the same job), keeps its ``heartbeat`` fresh
while it runs, and ends it with :meth:`JobQueue.finish`. Because the queue is in the
database, a restart loses nothing: a job whose heartbeat stopped (its server died) is
put back in the queue by :meth:`JobQueue.recover` to resume from its checkpoints, or
marked failed with the reason once it has been interrupted too often.

Cancelling a queued job ends it at once; a running one is flagged, and its runner stops
the training process when it next looks (:meth:`JobQueue.cancel_requested`).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from audioclf.registry.db import RegistryError
from audioclf.registry.tables import ACTIVE_STATES, JobRow, aware, utcnow

TRAIN = "train"
RETRAIN = "retrain"
ENDED = ("done", "failed", "cancelled")
MAX_STAGE = 300
MAX_ERROR = 4000


class JobNotFoundError(RegistryError):
    """No job with that id."""


class JobConflictError(RegistryError):
    """The job is not in a state that allows the change."""


class QueueFullError(RegistryError):
    """As many jobs wait as the queue holds."""


@dataclass(frozen=True)
class JobInfo:
    """A job, detached from the database session."""

    id: str
    kind: str
    state: str
    stage: str
    progress: float
    dataset: str | None
    model: str
    options: dict[str, Any]
    notes: list[str]
    clip_ids: list[str] | None
    manifest: Path | None
    run_dir: Path | None
    metrics: dict[str, Any] | None
    error: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    heartbeat: datetime | None
    attempts: int
    cancel_requested: bool
    version: int | None

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @classmethod
    def of(cls, row: JobRow) -> JobInfo:
        return cls(
            id=row.id,
            kind=row.kind,
            state=row.state,
            stage=row.stage,
            progress=row.progress,
            dataset=row.dataset_id,
            model=row.model_name,
            options=dict(row.options),
            notes=list(row.notes),
            clip_ids=list(row.clip_ids) if row.clip_ids is not None else None,
            manifest=Path(row.manifest) if row.manifest else None,
            run_dir=Path(row.run_dir) if row.run_dir else None,
            metrics=dict(row.metrics) if row.metrics is not None else None,
            error=row.error,
            created=cast(datetime, aware(row.created)),
            started=aware(row.started),
            finished=aware(row.finished),
            heartbeat=aware(row.heartbeat),
            attempts=row.attempts,
            cancel_requested=row.cancel_requested,
            version=row.version,
        )


class JobQueue:
    """Jobs in the registry database."""

    def __init__(self, sessions: sessionmaker[Session], *, max_queued: int = 20) -> None:
        self.sessions = sessions
        self.max_queued = max_queued

    def submit(
        self,
        kind: str,
        model: str,
        options: dict[str, Any],
        *,
        notes: Sequence[str] = (),
        dataset: str | None = None,
        clip_ids: Sequence[str] | None = None,
        manifest: Path | None = None,
        run_dir: Path | None = None,
        job_id: str | None = None,
    ) -> JobInfo:
        """Queue a job (:class:`QueueFullError` when ``max_queued`` are waiting)."""
        with self.sessions.begin() as session:
            waiting = session.scalar(
                select(func.count()).select_from(JobRow).where(JobRow.state == "queued")
            )
            if (waiting or 0) >= self.max_queued:
                raise QueueFullError(
                    f"{waiting} jobs are waiting, the most the queue holds; retry when one "
                    "has started"
                )
            row = JobRow(
                id=job_id or uuid.uuid4().hex,
                kind=kind,
                state="queued",
                stage="waiting for its turn",
                progress=0.0,
                dataset_id=dataset,
                model_name=model,
                options=dict(options),
                notes=list(notes),
                clip_ids=list(clip_ids) if clip_ids is not None else None,
                manifest=str(manifest) if manifest else None,
                run_dir=str(run_dir) if run_dir else None,
                created=utcnow(),
                attempts=0,
                cancel_requested=False,
            )
            session.add(row)
            session.flush()
            return JobInfo.of(row)

    def get(self, job_id: str) -> JobInfo:
        """One job (:class:`JobNotFoundError` when there is none)."""
        with self.sessions() as session:
            return JobInfo.of(self._row(session, job_id))

    def list(self, *, kind: str | None = None, limit: int = 100) -> builtins.list[JobInfo]:
        """The newest jobs first (of ``kind``)."""
        query = select(JobRow).order_by(JobRow.created.desc(), JobRow.id).limit(limit)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        with self.sessions() as session:
            return [JobInfo.of(r) for r in session.scalars(query)]

    def running(self) -> int:
        """How many jobs are running."""
        return self._count("running")

    def waiting(self) -> int:
        """How many jobs are queued."""
        return self._count("queued")

    def _count(self, state: str) -> int:
        with self.sessions() as session:
            count = session.scalar(
                select(func.count()).select_from(JobRow).where(JobRow.state == state)
            )
            return int(count or 0)

    def claim(self, holder: str) -> JobInfo | None:
        """Take the oldest queued job for ``holder`` (None when the queue is empty)."""
        while True:
            with self.sessions.begin() as session:
                job_id = session.scalar(
                    select(JobRow.id)
                    .where(JobRow.state == "queued")
                    .order_by(JobRow.created, JobRow.id)
                    .limit(1)
                )
                if job_id is None:
                    return None
                now = utcnow()
                result = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.state == "queued")
                    .values(
                        state="running",
                        holder=holder,
                        heartbeat=now,
                        started=func.coalesce(JobRow.started, now),
                        attempts=JobRow.attempts + 1,
                        stage="starting",
                    )
                )
                if cast(CursorResult[object], result).rowcount == 1:
                    return JobInfo.of(self._row(session, job_id))
            # another runner took it between the SELECT and the UPDATE: try the next one

    def beat(self, job_id: str, holder: str) -> None:
        """The job's runner is alive."""
        self._update(job_id, {"heartbeat": utcnow()}, holder=holder)

    def report(self, job_id: str, stage: str, progress: float) -> None:
        """Where a running job is (its progress never goes down)."""
        with self.sessions.begin() as session:
            row = session.scalar(
                select(JobRow).where(JobRow.id == job_id, JobRow.state == "running")
            )
            if row is None:
                return
            row.stage = stage[:MAX_STAGE]
            row.progress = max(row.progress, min(max(progress, 0.0), 1.0))
            row.heartbeat = utcnow()

    def note(self, job_id: str, text: str) -> None:
        """Add a line to the job's notes."""
        with self.sessions.begin() as session:
            row = self._row(session, job_id)
            row.notes = [*row.notes, text]

    def finish(
        self,
        job_id: str,
        state: str,
        *,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
        holder: str | None = None,
    ) -> bool:
        """End a job that has not ended yet (by ``holder``, if given); False when it had."""
        if state not in ENDED:
            raise ValueError(f"{state!r} is not an end state")
        values: dict[str, Any] = {"state": state, "finished": utcnow(), "holder": None}
        if state == "done":
            values |= {"progress": 1.0, "stage": "done", "metrics": metrics}
        else:
            values |= {"stage": state, "error": (error or "")[:MAX_ERROR] or None}
        return self._update(job_id, values, holder=holder, states=ACTIVE_STATES)

    def trained(self, job_id: str, metrics: dict[str, Any]) -> None:
        """A running training job's run is complete: its metrics, and the stage that
        remains (its runner loads the model, then ends the job ``done``)."""
        self._update(
            job_id,
            {"metrics": metrics, "stage": "loading the model", "progress": 0.99},
            states=("running",),
        )

    def cancel(self, job_id: str) -> JobInfo:
        """Cancel a queued job at once, or ask a running one's runner to stop it."""
        with self.sessions.begin() as session:
            row = self._row(session, job_id, for_update=True)
            if row.state in ENDED:
                raise JobConflictError(f"job {job_id} has already ended ({row.state})")
            if row.state == "queued":
                row.state, row.stage, row.finished = "cancelled", "cancelled", utcnow()
                row.error = "cancelled before it started"
            else:
                row.cancel_requested = True
                row.stage = "cancelling"
            session.flush()
            return JobInfo.of(row)

    def cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked to cancel the job."""
        with self.sessions() as session:
            return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def requeue(self, job_id: str, reason: str, *, holder: str | None = None) -> bool:
        """Put a running job back in the queue (its runner is stopping): it resumes from
        its checkpoints when it is claimed again."""
        changed = self._update(
            job_id,
            {"state": "queued", "holder": None, "stage": "waiting to resume"},
            holder=holder,
            states=("running",),
        )
        if changed:
            self.note(job_id, reason)
        return changed

    def recover(self, *, stale_seconds: float, max_attempts: int) -> builtins.list[JobInfo]:
        """Running jobs whose runner stopped beating ``stale_seconds`` ago: back in the
        queue to resume, or failed after ``max_attempts`` starts."""
        cutoff = utcnow() - timedelta(seconds=stale_seconds)
        with self.sessions() as session:
            stale = list(
                session.scalars(
                    select(JobRow.id).where(
                        JobRow.state == "running",
                        (JobRow.heartbeat.is_(None)) | (JobRow.heartbeat < cutoff),
                    )
                )
            )
        recovered = []
        for job_id in stale:
            job = self.get(job_id)
            if job.attempts >= max_attempts:
                self.finish(
                    job_id,
                    "failed",
                    error=f"interrupted {job.attempts} times (its server stopped while it "
                    "ran); not resumed again — submit it anew",
                )
            elif job.cancel_requested:
                self.finish(job_id, "cancelled", error="cancelled; its server stopped meanwhile")
            else:
                self.requeue(
                    job_id,
                    f"interrupted (its server stopped) after {job.attempts} start(s); "
                    "resumed from its checkpoints",
                )
            recovered.append(self.get(job_id))
        return recovered

    def set_version(self, job_id: str, version: int) -> None:
        """The registry version the job's run was promoted as."""
        self._update(job_id, {"version": version})

    def served(self, *, limit: int) -> builtins.list[JobInfo]:
        """The newest done training job of each model name, newest first (``limit``)."""
        newest: dict[str, JobInfo] = {}
        with self.sessions() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.kind == TRAIN, JobRow.state == "done")
                .order_by(JobRow.finished.desc(), JobRow.id)
            )
            for row in rows:
                if row.model_name not in newest:
                    newest[row.model_name] = JobInfo.of(row)
                if len(newest) >= limit:
                    break
        return list(newest.values())

    def _update(
        self,
        job_id: str,
        values: dict[str, Any],
        *,
        holder: str | None = None,
        states: Sequence[str] | None = None,
    ) -> bool:
        query = update(JobRow).where(JobRow.id == job_id)
        if holder is not None:
            query = query.where(JobRow.holder == holder)
        if states is not None:
            query = query.where(JobRow.state.in_(states))
        with self.sessions.begin() as session:
            result = session.execute(query.values(**values))
            return cast(CursorResult[object], result).rowcount == 1

    def _row(self, session: Session, job_id: str, *, for_update: bool = False) -> JobRow:
        query = select(JobRow).where(JobRow.id == job_id)
        row = session.scalar(query.with_for_update() if for_update else query)
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r}; GET /v1/jobs lists them")
        return row
