"""``/v1/jobs``: training jobs — queue one on a dataset, follow it (JSON or a stream of
server-sent events), cancel it, promote its run into the registry — and
``/v1/admin/retrains``, the scheduled retrains and their attempts (admin key)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from audioclf.registry.jobs import RETRAIN, JobInfo
from audioclf.registry.schedules import list_schedules
from audioclf.registry.training import TrainRequest, submit_training
from audioclf.service.deps import AdminDep, PoolDep, client_key
from audioclf.service.engine import ModelPool
from audioclf.service.limits import ConnectionSlots, retry_after_header
from audioclf.service.schemas import ErrorResponse
from audioclf.service.training import Training, TrainingDep, call
from audioclf.service.training_schemas import (
    JobList,
    JobResponse,
    NewJob,
    Promoted,
    RetrainAttempt,
    RetrainsResponse,
    ScheduleResponse,
)

EVENT_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
COMPARISON = (
    "production_version",
    "candidate_version",
    "production_score",
    "candidate_score",
    "promoted",
)

ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key."},
    403: {"model": ErrorResponse, "description": "Admin API disabled (no key set)."},
    404: {"model": ErrorResponse, "description": "Unknown job, or training is off."},
}
router = APIRouter(tags=["training"], dependencies=[AdminDep], responses=ADMIN_ERRORS)


def job_response(job: JobInfo, pool: ModelPool) -> JobResponse:
    """A job as the API shows it (``served``: this server answers for its model)."""
    served = job.run_dir is not None and pool.added.get(job.model) == job.run_dir
    return JobResponse(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        state=job.state,  # type: ignore[arg-type]
        stage=job.stage,
        progress=job.progress,
        dataset=job.dataset,
        model=job.model,
        options={k: v for k, v in job.options.items() if k not in ("feedback_dir", "out_dir")},
        notes=job.notes,
        created=job.created,
        started=job.started,
        finished=job.finished,
        error=job.error,
        metrics=job.metrics,
        run=job.run_dir.name if job.run_dir else None,
        served=served,
        version=job.version,
    )


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobResponse,
    responses={
        400: {"model": ErrorResponse, "description": "Empty dataset, too few clips, bad option."},
        409: {"model": ErrorResponse, "description": "The name belongs to another model."},
        503: {"model": ErrorResponse, "description": "The queue is full; see Retry-After."},
    },
)
async def submit_job(body: NewJob, training: TrainingDep, pool: PoolDep) -> JobResponse:
    """Queue a training job on a dataset (or a manifest on the server)."""
    limit = training.settings.job_max_minutes
    if body.time_budget_minutes is not None and body.time_budget_minutes > limit:
        raise HTTPException(400, f"time_budget_minutes may be at most {limit:g} on this server")
    request = TrainRequest(**body.model_dump())
    job = await call(
        lambda: submit_training(
            request,
            store=training.store,
            queue=training.queue,
            runs_dir=training.settings.job_runs_dir,
            taken={n for n in pool.names if n not in pool.added},
            options={"ray": True} if training.settings.jobs_ray else None,
        )
    )
    return job_response(job, pool)


@router.get("/jobs", response_model=JobList)
async def list_jobs(training: TrainingDep, pool: PoolDep) -> JobList:
    """The newest jobs first."""
    jobs = await call(training.queue.list)
    return JobList(jobs=[job_response(j, pool) for j in jobs])


@router.get("/jobs/{job_id}", response_model=JobResponse)
async def show_job(job_id: str, training: TrainingDep, pool: PoolDep) -> JobResponse:
    """A job's state, stage and progress; its metrics and run once done."""
    return job_response(await call(training.queue.get, job_id), pool)


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Job events."}},
)
async def job_events(
    job_id: str, request: Request, training: TrainingDep, pool: PoolDep
) -> StreamingResponse:
    """Server-sent events: the job (as ``GET /v1/jobs/{id}``) each time it changes, until
    it ends. Each stream holds one of the server's long-lived connection slots (shared
    with live audio streams: ``AUDIOCLF_MAX_STREAMS``, ``..._PER_CLIENT``)."""
    first = await call(training.queue.get, job_id)
    slots: ConnectionSlots = request.app.state.streams
    key = client_key(request)
    refused = slots.acquire(key)
    if refused is not None:
        raise HTTPException(503, refused, headers=retry_after_header(KEEPALIVE_SECONDS))
    return StreamingResponse(
        _released(_events(first, request, training, pool), slots, key),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _released(
    events: AsyncIterator[str], slots: ConnectionSlots, key: str
) -> AsyncIterator[str]:
    """``events``, giving the connection slot back however the stream ends."""
    try:
        async for event in events:
            yield event
    finally:
        slots.release(key)


async def _events(
    job: JobInfo, request: Request, training: Training, pool: ModelPool
) -> AsyncIterator[str]:
    last = ""
    quiet = 0.0
    while True:
        text = job_response(job, pool).model_dump_json()
        if text != last:
            yield f"event: job\ndata: {text}\n\n"
            last, quiet = text, 0.0
        elif quiet >= KEEPALIVE_SECONDS:
            yield ": still here\n\n"
            quiet = 0.0
        if job.ended or await request.is_disconnected():
            return
        await asyncio.sleep(EVENT_POLL_SECONDS)
        quiet += EVENT_POLL_SECONDS
        job = await call(training.queue.get, job.id)


@router.delete(
    "/jobs/{job_id}",
    response_model=JobResponse,
    responses={409: {"model": ErrorResponse, "description": "The job has already ended."}},
)
async def cancel_job(job_id: str, training: TrainingDep, pool: PoolDep) -> JobResponse:
    """Cancel a job: a queued one at once, a running one within a second or two."""
    return job_response(await call(training.queue.cancel, job_id), pool)


@router.post(
    "/jobs/{job_id}/promote",
    response_model=Promoted,
    responses={409: {"model": ErrorResponse, "description": "The job is not done."}},
)
async def promote_job(job_id: str, training: TrainingDep) -> Promoted:
    """Register the job's run in the registry under its model name and make it production."""
    job = await call(training.queue.get, job_id)
    if job.state != "done" or job.run_dir is None or job.kind != "train":
        raise HTTPException(409, f"job {job_id} is {job.state}; only a done training job promotes")
    if job.version is not None:
        return Promoted(name=job.model, version=job.version, stage="production")

    def register() -> int:
        version = training.registry.add(job.run_dir, job.model).version  # type: ignore[arg-type]
        training.registry.promote(job.model, version)
        training.queue.set_version(job.id, version)
        return version

    version = await call(register)
    return Promoted(name=job.model, version=version, stage="production")


@router.get("/admin/retrains", response_model=RetrainsResponse)
async def show_retrains(training: TrainingDep) -> RetrainsResponse:
    """The retraining schedules, and every retrain attempt with its comparison."""
    schedules = await call(list_schedules, training.queue.sessions)
    jobs = await call(lambda: training.queue.list(kind=RETRAIN))
    return RetrainsResponse(
        schedules=[ScheduleResponse(**s.__dict__) for s in schedules],
        attempts=[_attempt(j) for j in jobs],
    )


def _attempt(job: JobInfo) -> RetrainAttempt:
    metrics = job.metrics or {}
    return RetrainAttempt(
        job=job.id,
        name=job.model,
        state=job.state,
        created=job.created,
        finished=job.finished,
        error=job.error,
        **{key: metrics.get(key) for key in COMPARISON},
    )
