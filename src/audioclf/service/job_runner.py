"""The server's job runner: takes queued jobs from the registry database and runs each
in a process of its own (``python -m audioclf.registry.job_run``), one at a time by
default, and serves each finished training job's model at once.

Every :attr:`JobRunner.poll_seconds` it:

- puts back in the queue the jobs whose runner died (their heartbeat is stale), to
  resume, and queues the retrains that are due by schedule;
- beats the heart of its own jobs, stops those someone cancelled, and ends those whose
  process exited without saying how (killed, out of memory: failed, with the exit code
  and the last line of the job's log);
- every :data:`FOLLOW_SECONDS`, when it serves registry names, reloads them if their
  production version changed (a scheduled retrain promoted a candidate);
- takes the next queued job when fewer than ``jobs_at_once`` run (across every server on
  the database: the count and the claim happen under a lease);
- serves the model of each of its training jobs whose process trained it, then ends the
  job ``done`` (so a done job's model answers at once), and loads the model of every
  training job other servers finished since it last looked, under the job's model name.

A job's process gets ``job_cores`` cores (:data:`audioclf.jobs.CORES_ENV`), a lower CPU
priority than serving, and its own session, so stopping it stops whatever it started.
On shutdown the runner stops its jobs and puts them back in the queue, so the next start
resumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import anyio

from audioclf.jobs import CORES_ENV
from audioclf.registry.jobs import RETRAIN, TRAIN, JobInfo, JobQueue
from audioclf.registry.lock import Lease, LockHeldError
from audioclf.registry.schedules import claim_due
from audioclf.service.engine import ModelPool
from audioclf.service.registry_models import RegistryModelPool

log = logging.getLogger("audioclf.service")

NICENESS = 10
STOP_GRACE_SECONDS = 5.0
BEAT_SECONDS = 3.0
FOLLOW_SECONDS = 5.0
CLAIM_LEASE = "jobs:claim"
LOG_NAME = "job.log"
INTERRUPTED = "interrupted: its server stopped; resumed from its checkpoints"


@dataclass
class RunnerConfig:
    """How the runner runs jobs (from the server's settings)."""

    db_url: str
    logs_dir: Path
    jobs_at_once: int = 1
    cores: int = 1
    attempts: int = 2
    keep_models: int = 8
    feedback_dir: Path = Path("feedback-pool")
    poll_seconds: float = 0.5
    stale_seconds: float = 15.0


@dataclass
class _Child:
    job: JobInfo
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)
    beaten: float = 0.0


class JobRunner:
    """Runs the queue's jobs beside a serving :class:`ModelPool` (module docstring)."""

    def __init__(self, queue: JobQueue, pool: ModelPool, config: RunnerConfig) -> None:
        self.queue = queue
        self.pool = pool
        self.config = config
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.children: dict[str, _Child] = {}
        self.seen: dict[str, datetime] = {}  # model name → finish time of the job it serves
        self._task: asyncio.Task[None] | None = None
        self._followed = 0.0

    async def start(self) -> None:
        """Serve the models of finished jobs, then start looking at the queue."""
        await self.serve_finished()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop looking, stop this runner's jobs and queue them again to resume."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for job_id in list(self.children):
            child = self.children.pop(job_id)
            await anyio.to_thread.run_sync(_stop_process, child.process)
            child.log_file.close()
            await anyio.to_thread.run_sync(
                functools.partial(self.queue.requeue, job_id, INTERRUPTED)
            )

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a database hiccup must not end the runner
                log.exception("job runner: tick failed")
            await asyncio.sleep(self.config.poll_seconds)

    async def tick(self) -> None:
        """One look at the queue (module docstring)."""
        await anyio.to_thread.run_sync(self._recover_and_schedule)
        for job_id in list(self.children):
            await self._watch(job_id)
        while len(self.children) < self.config.jobs_at_once:
            job = await anyio.to_thread.run_sync(self._claim)
            if job is None:
                break
            self._spawn(job)
        await self.serve_finished()
        if time.monotonic() - self._followed >= FOLLOW_SECONDS:
            self._followed = time.monotonic()
            await self.follow_promotions()

    async def follow_promotions(self) -> None:
        """Serve the current production versions when the pool serves registry names
        and one was promoted or rolled back (by a scheduled retrain or anyone else)."""
        pool = self.pool
        if not isinstance(pool, RegistryModelPool):
            return
        production = await anyio.to_thread.run_sync(
            lambda: {n: pool.registry.production(n).version for n in pool.registry_names}
        )
        if production == pool.versions:
            return
        old = list(pool.batchers.values())
        await anyio.to_thread.run_sync(pool.reload)
        for batcher in old:
            await batcher.close()
        log.info("serving the registry's new production versions %s", production)

    def _recover_and_schedule(self) -> None:
        for job in self.queue.recover(
            stale_seconds=self.config.stale_seconds, max_attempts=self.config.attempts
        ):
            log.info("job %s was interrupted; now %s", job.id, job.state)
        for schedule in claim_due(self.queue.sessions):
            options = {
                "data": schedule.data,
                "margin": schedule.margin,
                "feedback_dir": str(self.config.feedback_dir),
            }
            job = self.queue.submit(RETRAIN, schedule.name, options, notes=["scheduled"])
            log.info("queued scheduled retrain %s of %s", job.id, schedule.name)

    def _claim(self) -> JobInfo | None:
        if not self.queue.waiting():
            return None
        try:
            with Lease(self.queue.sessions, CLAIM_LEASE, ttl_seconds=30):
                if self.queue.running() >= self.config.jobs_at_once:
                    return None
                return self.queue.claim(self.holder)
        except LockHeldError:
            return None  # another server is claiming; look again next time

    def _spawn(self, job: JobInfo) -> None:
        log_dir = job.run_dir or self.config.logs_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / (LOG_NAME if job.run_dir else f"{job.kind}-{job.id}.log")
        log_file = log_path.open("ab")
        env = os.environ | {CORES_ENV: str(self.config.cores), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "audioclf.registry.job_run", "--db", self.config.db_url]
        process = subprocess.Popen(
            [*command, "--nice", str(NICENESS), job.id],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.children[job.id] = _Child(job, process, log_path, log_file)
        log.info("job %s (%s %s) started as process %d", job.id, job.kind, job.model, process.pid)

    async def _watch(self, job_id: str) -> None:
        child = self.children[job_id]
        code = child.process.poll()
        if code is None:
            cancel = await anyio.to_thread.run_sync(self.queue.cancel_requested, job_id)
            if not cancel:
                if time.monotonic() - child.beaten >= BEAT_SECONDS:
                    await anyio.to_thread.run_sync(self.queue.beat, job_id, self.holder)
                    child.beaten = time.monotonic()
                return
            await anyio.to_thread.run_sync(_stop_process, child.process)
            await anyio.to_thread.run_sync(
                lambda: self.queue.finish(job_id, "cancelled", error="cancelled while it ran")
            )
            log.info("job %s cancelled", job_id)
        else:
            job = await anyio.to_thread.run_sync(self.queue.get, job_id)
            if job.ended:
                pass
            elif code == 0 and job.kind == TRAIN and job.metrics is not None:
                await self._serve_trained(job)
            else:
                why = f"the job's process ended with exit code {code}"
                last = _last_line(child.log_path)
                await anyio.to_thread.run_sync(
                    lambda: self.queue.finish(
                        job_id, "failed", error=f"{why}: {last}" if last else why
                    )
                )
        child.log_file.close()
        del self.children[job_id]

    async def _serve_trained(self, job: JobInfo) -> None:
        """Load a trained job's model, then end the job: done, or failed if it cannot
        be served."""
        try:
            await self._add_model(job)
        except Exception as err:
            why = f"trained, but its model cannot be served: {err}"
            await anyio.to_thread.run_sync(lambda: self.queue.finish(job.id, "failed", error=why))
            return
        await anyio.to_thread.run_sync(
            lambda: self.queue.finish(job.id, "done", metrics=job.metrics)
        )
        finished = await anyio.to_thread.run_sync(self.queue.get, job.id)
        if finished.finished is not None:
            self.seen[job.model] = finished.finished

    async def _add_model(self, job: JobInfo) -> None:
        if job.run_dir is None:
            raise ValueError(f"job {job.id} has no run folder")
        replaced = await anyio.to_thread.run_sync(
            functools.partial(self.pool.add, job.model, job.run_dir, keep=self.config.keep_models)
        )
        for batcher in replaced:
            await batcher.close()
        log.info("serving %s from job %s", job.model, job.id)

    async def serve_finished(self) -> None:
        """Load the models of training jobs finished since the last look."""
        served = await anyio.to_thread.run_sync(
            lambda: self.queue.served(limit=self.config.keep_models)
        )
        for job in reversed(served):  # oldest first, so the newest are kept
            if job.finished is None or job.run_dir is None or job.kind != TRAIN:
                continue
            if self.seen.get(job.model) == job.finished:
                continue
            self.seen[job.model] = job.finished
            try:
                await self._add_model(job)
            except Exception as err:
                log.warning("job %s is done but its model cannot be served: %s", job.id, err)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the job's process group, SIGKILL if it is still there after the grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _last_line(path: Path, tail: int = 4096) -> str:
    """The last non-empty line of a log (its tail only is read)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - tail))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
