"""Serving from the registry: the production version of each named model, reloaded on
``POST /v1/admin/reload`` after a promotion or a rollback, and the prediction log rows
of what they answered (the app adds the feedback routes when a registry is configured)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from audioclf.inference.predictor import Predictor
from audioclf.registry.predictions import PredictionLog, PredictionRecord, audio_hash
from audioclf.registry.store import Registry
from audioclf.service.engine import Batcher, BatcherFactory, ModelPool
from audioclf.service.sessions import SessionStore

if TYPE_CHECKING:
    from audioclf.service.engine import ModelResult
    from audioclf.service.settings import Settings


class RegistryModelPool(ModelPool):
    """A :class:`ModelPool` whose models are the production versions of registry names;
    each model is served under its registry name, and ``reload`` asks the registry again."""

    def __init__(
        self,
        registry: Registry,
        names: list[str],
        **options: Any,
    ) -> None:
        """``options``: :class:`ModelPool`'s."""
        self.registry = registry
        self.registry_names = list(names)
        self.versions: dict[str, int] = {}
        self._by_run: dict[Path, tuple[str, int]] = {}
        super().__init__(self._resolve(), **options)

    def _resolve(self) -> list[Path]:
        """The production run folder of every name (raises if one has none)."""
        found = {name: self.registry.production(name) for name in self.registry_names}
        self._by_run = {v.run_dir: (v.name, v.version) for v in found.values()}
        return [v.run_dir for v in found.values()]

    def _open_run(self, run: Path) -> Predictor:
        predictor = super()._open_run(run)
        predictor.name = self._by_run[run][0]
        return predictor

    def load(self) -> list[str]:
        names = super().load()
        self.versions = {name: version for name, version in self._by_run.values()}
        return names

    def reload(self) -> list[str]:
        """Serve the current production versions; on any error the old ones stay."""
        old_runs, old_map = self.runs, self._by_run
        try:
            self.runs = self._resolve()
            return self.load()
        except Exception:
            self.runs, self._by_run = old_runs, old_map
            raise


def make_pool(settings: Settings, *, batcher: BatcherFactory = Batcher) -> ModelPool:
    """The registry's production models when ``settings.registry`` names some, else the
    configured run folders; each model's requests batched by ``batcher``."""
    options: dict[str, Any] = {
        "batch_wait_ms": settings.batch_wait_ms,
        "max_batch": settings.max_batch,
        "workers": settings.inference_workers,
        "threads": settings.onnx_threads,
        "batcher": batcher,
        "sessions": SessionStore(
            max_sessions=settings.max_sessions,
            ttl_seconds=settings.session_ttl_seconds,
            min_clips=settings.session_min_clips,
        ),
    }
    if not settings.registry:
        return ModelPool(settings.runs, **options)
    return RegistryModelPool(Registry(settings.db_url), settings.registry, **options)


def close_registry(app: FastAPI) -> None:
    """Write the queued prediction rows before the process ends."""
    log: PredictionLog | None = getattr(app.state, "prediction_log", None)
    if log is not None:
        log.close()


def log_predictions(
    request: Request, data: bytes, results: list[ModelResult], total_ms: float
) -> dict[str, tuple[str, int]]:
    """Queue one log row per model result; return {model: (prediction id, version)}.

    Empty when the app does not serve a registry. The write happens in the log's thread.
    """
    log: PredictionLog | None = getattr(request.app.state, "prediction_log", None)
    pool = request.app.state.pool
    if log is None or not isinstance(pool, RegistryModelPool):
        return {}
    digest = audio_hash(data)
    ids: dict[str, tuple[str, int]] = {}
    rows = []
    for r in results:
        version = pool.versions.get(r.model)
        if version is None:
            continue
        pid = str(uuid.uuid4())
        ids[r.model] = (pid, version)
        probs = {label: float(p) for label, p in zip(r.labels, r.probabilities, strict=True)}
        rows.append(
            PredictionRecord(
                id=pid,
                model_name=r.model,
                model_version=version,
                top_label=max(probs, key=probs.__getitem__),
                probabilities=probs,
                latency_ms=round(total_ms, 3),
                audio_sha256=digest,
            )
        )
    log.record(rows)
    return ids
