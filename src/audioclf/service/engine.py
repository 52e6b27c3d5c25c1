"""The model pool: run folders loaded once, inference off the event loop, micro-batched.

Requests for the same model that queue up while a batch runs are gathered into the next
``predict_proba`` call in a worker thread (and, with ``batch_wait_ms`` > 0, requests that
arrive within that time), so concurrent clients share the cost of one ONNX Runtime call
instead of queueing behind each other, while a lone request never waits.

Each batch runs with the stage clock open (:mod:`audioclf.stages`), so every answer
carries the milliseconds of its batch by stage — ``resample`` to the model's rate, then
the predictor's own stages (feature extractors per speed view, ``model``, an ensemble's
members and ``combine``), as :mod:`audioclf.inference.cost` names them.

A run trained with ``speaker_norm`` is not batched: each clip's feature vector is
standardised on the event loop — with its session's running statistics when the request
names a session (:mod:`audioclf.service.sessions`), else with the training clips' — and
then classified.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
import numpy as np
import soxr

from audioclf.features.speaker_norm import NormStats, check_servable
from audioclf.formats.runfolder import RunFolderError
from audioclf.inference.predictor import Predictor
from audioclf.service.sessions import Normalised, SessionStore
from audioclf.stages import measuring

log = logging.getLogger("audioclf.service")

ALL = "all"


class ModelNotServedError(ValueError):
    """A model name that is not loaded; the message lists the loaded ones."""

    def __init__(self, name: str, loaded: Sequence[str]) -> None:
        self.name = name
        names = ", ".join(loaded) or "none"
        super().__init__(f"unknown model {name!r}; loaded models: {names} (or 'all')")


class DuplicateModelError(ValueError):
    """Two run folders with the same folder name (model names must be unique)."""


@dataclass(frozen=True)
class ModelResult:
    """One model's answer for one waveform."""

    model: str
    labels: list[str]
    probabilities: np.ndarray
    inference_ms: float
    stages: dict[str, float] = field(default_factory=dict)
    """Milliseconds by stage: ``resample`` and the stages of the batch it ran in."""
    normalised: Normalised | None = None
    """A ``speaker_norm`` model's: which statistics standardised the clip."""


Answer = tuple[np.ndarray, float, dict[str, float]]
"""One waveform's probabilities, the time its batch took (ms) and that time by stage."""


class BatchRunner(Protocol):
    """What a :class:`ModelPool` hands a model's requests to: :class:`Batcher` here,
    Ray Serve's ``@serve.batch`` in ``audioclf serve --ray`` (service/ray_serve.py)."""

    async def predict(self, waveform: np.ndarray) -> Answer: ...

    async def close(self) -> None: ...


BatcherFactory = Callable[..., BatchRunner]
"""Called as ``factory(predictor, wait_ms=..., max_batch=...)``."""


@dataclass
class _Job:
    waveform: np.ndarray
    future: asyncio.Future[Answer]


_STOP = None  # queued by close(): the worker finishes the jobs before it, then exits


class Batcher:
    """Gathers concurrent requests for one predictor into batched ``predict_proba`` calls."""

    def __init__(self, predictor: Predictor, *, wait_ms: float = 0.0, max_batch: int = 16) -> None:
        self.predictor = predictor
        self.wait = wait_ms / 1000
        self.max_batch = max_batch
        self.batches: list[int] = []  # sizes of the batches run so far (for tests and logs)
        self._queue: asyncio.Queue[_Job | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_worker(self) -> asyncio.Queue[_Job | None]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._work(self._queue))
        return self._queue

    async def predict(self, waveform: np.ndarray) -> Answer:
        """Probabilities for one waveform, the time its batch took (ms) and that time by
        stage."""
        queue = self._ensure_worker()
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        await queue.put(_Job(waveform, future))
        return await future

    async def _work(self, queue: asyncio.Queue[_Job | None]) -> None:
        stop = False
        while not stop:
            first = await queue.get()
            if first is _STOP:
                return
            jobs = [first]
            deadline = time.perf_counter() + self.wait
            while len(jobs) < self.max_batch:
                # Requests that queued up while the previous batch ran join at once;
                # only then is it worth waiting (``wait_ms``) for more.
                remaining = deadline - time.perf_counter()
                try:
                    job = (
                        queue.get_nowait()
                        if remaining <= 0 or not queue.empty()
                        else await asyncio.wait_for(queue.get(), remaining)
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
                if job is _STOP:
                    stop = True
                    break
                jobs.append(job)
            await self._run(jobs)

    async def _run(self, jobs: list[_Job]) -> None:
        start = time.perf_counter()
        try:
            probs, stages = await anyio.to_thread.run_sync(
                self._timed_predict, [job.waveform for job in jobs]
            )
        except Exception as exc:  # hand the failure to every waiting request
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        elapsed = (time.perf_counter() - start) * 1000
        self.batches.append(len(jobs))
        for job, p in zip(jobs, probs, strict=True):
            if not job.future.done():
                job.future.set_result((p, elapsed, stages))

    def _timed_predict(self, waves: list[np.ndarray]) -> tuple[np.ndarray, dict[str, float]]:
        return timed_predict(self.predictor, waves)

    async def close(self) -> None:
        """Let the worker finish the queued requests, then stop it."""
        task, queue = self._task, self._queue
        self._task, self._queue = None, None
        if task is None or queue is None or task.done():
            return
        if self._loop is not asyncio.get_running_loop():
            task.cancel()  # its event loop is gone or elsewhere; nothing can be awaited
            return
        await queue.put(_STOP)
        with contextlib.suppress(asyncio.CancelledError):
            await task


def timed_predict(
    predictor: Predictor, waves: list[np.ndarray]
) -> tuple[np.ndarray, dict[str, float]]:
    """The batch's probabilities and its milliseconds by stage (run in a worker thread,
    so the clock sees this batch only)."""
    with measuring() as clock:
        probs = predictor.predict_proba(waves)
    return probs, clock.totals()


def _timed_features(p: Predictor, y: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """One clip's feature vectors and their milliseconds by stage."""
    with measuring() as clock:
        x = p.features([y])
    return x, clock.totals()


def _timed_standardised(p: Predictor, x: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Probabilities for standardised feature vectors and their milliseconds by stage."""
    with measuring() as clock:
        probs = p.predict_standardised(x)
    return probs, clock.totals()


def resample(y: np.ndarray, sr: int, target: int) -> np.ndarray:
    """Mono float32 at ``target`` Hz."""
    if sr == target:
        return y
    return soxr.resample(y, sr, target).astype(np.float32)


def timed_resample(y: np.ndarray, sr: int, target: int) -> tuple[np.ndarray, float]:
    """:func:`resample` and the milliseconds it took."""
    start = time.perf_counter()
    out = resample(y, sr, target)
    return out, (time.perf_counter() - start) * 1000


class ModelPool:
    """Every served model by name (the run folder's name), loaded once."""

    def __init__(
        self,
        runs: Sequence[Path],
        *,
        batch_wait_ms: float = 0.0,
        max_batch: int = 16,
        workers: int = 1,
        threads: int | None = None,
        batcher: BatcherFactory = Batcher,
        sessions: SessionStore | None = None,
    ) -> None:
        """``workers``: feature views each model extracts at once; ``threads``: ONNX
        Runtime's threads per model (``Predictor``'s); ``batcher``: what gathers each
        model's requests into batches; ``sessions``: the speaker statistics of sessions
        (default: a store with its default bounds)."""
        self.sessions = sessions if sessions is not None else SessionStore()
        self.runs = [Path(r) for r in runs]
        self.batch_wait_ms = batch_wait_ms
        self.max_batch = max_batch
        self.workers = workers
        self.threads = threads
        self.batcher = batcher
        self.models: dict[str, Predictor] = {}
        self.metrics: dict[str, dict[str, Any]] = {}
        self.batchers: dict[str, BatchRunner] = {}
        self.added: dict[str, Path] = {}
        """Models loaded by :meth:`add` (training jobs' runs) by name, oldest first."""
        self.load()

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def _open_run(self, run: Path) -> Predictor:
        """The model of one run folder (a subclass may name it otherwise)."""
        return Predictor(run, workers=self.workers, threads=self.threads)

    def _ready(self, predictor: Predictor, start: float) -> dict[str, Any]:
        """Warm a loaded model up; its run's metrics."""
        check_servable(predictor.run.root, predictor.card.speaker_norm, predictor.norm_stats)
        predictor.predict_proba([np.zeros(predictor.sample_rate // 10, np.float32)])
        log.info("loaded model %s in %.0f ms", predictor.name, 1000 * (time.perf_counter() - start))
        try:
            return predictor.run.read_metrics()
        except RunFolderError:
            return {}

    def _open_added(self, name: str, run: Path) -> Predictor:
        predictor = Predictor(run, workers=self.workers, threads=self.threads)
        predictor.name = name
        return predictor

    def load(self) -> list[str]:
        """Load every run folder (and the models :meth:`add` loaded); on any error nothing
        changes and the error is raised."""
        models: dict[str, Predictor] = {}
        metrics: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            start = time.perf_counter()
            predictor = self._open_run(run)
            if predictor.name in models:
                raise DuplicateModelError(
                    f"{run}: a model named {predictor.name!r} is already loaded from "
                    f"{models[predictor.name].run.root}; model names are run folder names, "
                    "so rename one of the folders"
                )
            models[predictor.name] = predictor
            metrics[predictor.name] = self._ready(predictor, start)
        for name, run in self.added.items():
            if name not in models:
                start = time.perf_counter()
                models[name] = self._open_added(name, run)
                metrics[name] = self._ready(models[name], start)
        self.models, self.metrics = models, metrics
        self.batchers = {name: self._batcher(p) for name, p in models.items()}
        return self.names

    def _batcher(self, predictor: Predictor) -> BatchRunner:
        return self.batcher(predictor, wait_ms=self.batch_wait_ms, max_batch=self.max_batch)

    def add(self, name: str, run: Path, *, keep: int) -> list[BatchRunner]:
        """Serve one more run folder under ``name`` (a training job's), replacing a model
        :meth:`add` loaded under that name, and unloading the oldest such models past
        ``keep``; the batchers of the models replaced, for the caller to close."""
        start = time.perf_counter()
        predictor = self._open_added(name, Path(run))
        metrics = self._ready(predictor, start)
        added = {n: r for n, r in self.added.items() if n != name} | {name: Path(run)}
        dropped = list(added)[: max(0, len(added) - keep)]
        for old in dropped:
            del added[old]
        models = {n: p for n, p in self.models.items() if n not in dropped}
        batchers = {n: b for n, b in self.batchers.items() if n not in dropped}
        replaced = [self.batchers[n] for n in [*dropped, name] if n in self.batchers]
        models[name], batchers[name] = predictor, self._batcher(predictor)
        self.metrics = {n: m for n, m in self.metrics.items() if n in models} | {name: metrics}
        self.models, self.batchers, self.added = models, batchers, added
        return replaced

    def reload(self) -> list[str]:
        """Load the run folders again (after retraining); the old models serve until then."""
        return self.load()

    def get(self, name: str) -> Predictor:
        """The predictor called ``name``."""
        if name not in self.models:
            raise ModelNotServedError(name, self.names)
        return self.models[name]

    def select(self, name: str) -> list[Predictor]:
        """The predictors named (``all`` = every loaded model)."""
        if name == ALL:
            return list(self.models.values())
        return [self.get(name)]

    async def predict(
        self, name: str, waveform: np.ndarray, sample_rate: int, *, session: str | None = None
    ) -> list[ModelResult]:
        """Each selected model's probabilities for one mono waveform at ``sample_rate``;
        ``session`` (a checked session id) names the speaker for speaker-normalised
        models."""
        predictors = self.select(name)

        async def one(p: Predictor) -> ModelResult:
            y, resample_ms = await anyio.to_thread.run_sync(
                timed_resample, waveform, sample_rate, p.sample_rate
            )
            if p.norm_stats is not None:
                return await self._normalised(p, p.norm_stats, y, session, resample_ms)
            probs, ms, stages = await self.batchers[p.name].predict(y)
            stages = {"resample": resample_ms} | stages
            return ModelResult(p.name, list(p.classes_), probs, ms, stages)

        return list(await asyncio.gather(*(one(p) for p in predictors)))

    async def _normalised(
        self,
        p: Predictor,
        training: NormStats,
        y: np.ndarray,
        session: str | None,
        resample_ms: float,
    ) -> ModelResult:
        """A speaker-normalised model's answer: features in a thread, standardised here
        with the session's (or the ``training``) statistics, classified in a thread."""
        start = time.perf_counter()
        x, stages = await anyio.to_thread.run_sync(_timed_features, p, y)
        norm_start = time.perf_counter()
        row, normalised = self.sessions.standardise(session, p.name, x[0], training)
        norm_ms = (time.perf_counter() - norm_start) * 1000
        probs, model_stages = await anyio.to_thread.run_sync(_timed_standardised, p, row)
        stages = {"resample": resample_ms} | stages | {"speaker_norm": norm_ms} | model_stages
        ms = (time.perf_counter() - start) * 1000
        return ModelResult(p.name, list(p.classes_), probs[0], ms, stages, normalised)

    async def close(self) -> None:
        """Stop the batching workers."""
        for batcher in self.batchers.values():
            await batcher.close()
