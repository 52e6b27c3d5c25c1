"""Training over HTTP, wired into the app when ``AUDIOCLF_TRAINING`` is on: the dataset
store, the job queue and its runner, and the dependency the routes use.

Registry calls block (database, files), so the routes run them in a worker thread with
:func:`call`, which also turns the registry's refusals into HTTP errors: a missing
dataset or job is 404, a clash with its state 409, a full queue 503, any other refusal
400 — each with the registry's own sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, FastAPI, HTTPException, Request

from audioclf.registry.datasets import (
    DatasetConflictError,
    DatasetNotFoundError,
    DatasetStore,
    Limits,
)
from audioclf.registry.db import RegistryError, database_url, session_factory
from audioclf.registry.jobs import JobConflictError, JobNotFoundError, JobQueue, QueueFullError
from audioclf.registry.store import Registry
from audioclf.service.engine import ModelPool
from audioclf.service.job_runner import JobRunner, RunnerConfig
from audioclf.service.settings import Settings

T = TypeVar("T")

NOT_FOUND = (DatasetNotFoundError, JobNotFoundError)
CONFLICT = (DatasetConflictError, JobConflictError)


@dataclass
class Training:
    """What the training routes work with."""

    store: DatasetStore
    queue: JobQueue
    registry: Registry
    runner: JobRunner
    settings: Settings


def make_training(settings: Settings, pool: ModelPool) -> Training:
    """The store, queue and runner of ``settings`` (the schema upgraded first)."""
    url = database_url(settings.db_url)
    sessions = session_factory(url)
    limits = Limits(
        max_clips=settings.dataset_max_clips,
        max_bytes=settings.dataset_max_bytes,
        max_clip_seconds=settings.dataset_clip_max_seconds,
        max_datasets=settings.max_datasets,
        min_clips_per_class=settings.job_min_clips_per_class,
    )
    queue = JobQueue(sessions, max_queued=settings.max_queued_jobs)
    runner = JobRunner(
        queue,
        pool,
        RunnerConfig(
            db_url=url,
            logs_dir=settings.job_runs_dir,
            jobs_at_once=settings.jobs_at_once,
            cores=settings.job_cores,
            attempts=settings.job_attempts,
            keep_models=settings.max_trained_models,
            feedback_dir=settings.feedback_dir,
        ),
    )
    store = DatasetStore(sessions, settings.datasets_dir, limits)
    store.sweep()
    return Training(store, queue, Registry(sessions=sessions), runner, settings)


def attach_training(app: FastAPI, training: Training | None) -> None:
    """Keep ``training`` where the routes find it (None: the routes answer 404)."""
    app.state.training = training


def get_training(request: Request) -> Training:
    """The app's training parts; 404 when training is off."""
    training: Training | None = getattr(request.app.state, "training", None)
    if training is None:
        raise HTTPException(
            404, "training over HTTP is off; start the server with AUDIOCLF_TRAINING=1"
        )
    return training


TrainingDep = Annotated[Training, Depends(get_training)]


def http_error(err: RegistryError) -> HTTPException:
    """The HTTP status of a registry refusal (module docstring)."""
    if isinstance(err, NOT_FOUND):
        return HTTPException(404, str(err))
    if isinstance(err, QueueFullError):
        return HTTPException(503, str(err), headers={"Retry-After": "60"})
    if isinstance(err, CONFLICT):
        return HTTPException(409, str(err))
    return HTTPException(400, str(err))


async def call(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a worker thread, registry refusals as HTTP errors."""
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    except RegistryError as err:
        raise http_error(err) from None
