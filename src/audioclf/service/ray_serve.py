"""``audioclf serve RUN... --ray``: the same FastAPI app served by Ray Serve replicas.

Every replica builds the app of :func:`audioclf.service.app.create_app` from the same
settings (``serve.ingress`` with a builder, which Ray Serve evaluates on the replica: the
models load there, not in the command's process), so the routes, the limits, the
browser app, ``/healthz`` and ``/metrics`` are the ones ``audioclf serve`` has; Ray
Serve's proxy spreads requests over the replicas. A replica's requests for one model are
gathered into batches by Ray Serve's ``@serve.batch`` (:class:`ServeBatcher`) in place
of the single-process :class:`~audioclf.service.engine.Batcher`, with the same
``max_batch`` and ``batch_wait_ms``.

Each replica holds ``cpus_per_replica`` CPUs and its ONNX Runtime sessions and feature
threads use that many, so N replicas on a node do not oversubscribe its cores. Limits
kept in memory (requests per minute per client, live streams) are per replica. The
feedback-token key is drawn once here when none is configured, so a token handed out by
one replica is accepted by another.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from fastapi import FastAPI

from audioclf.inference.predictor import Predictor
from audioclf.jobs import CORES_ENV
from audioclf.service.app import create_app
from audioclf.service.engine import Answer, timed_predict
from audioclf.service.settings import Settings, get_settings

APP_NAME = "audioclf"
TARGET_ONGOING = 4
"""Autoscaling's target of requests in flight per replica (a replica batches them)."""


class ServeBatcher:
    """A model's requests gathered into ``predict_proba`` calls by ``@serve.batch``."""

    def __init__(self, predictor: Predictor, *, wait_ms: float = 0.0, max_batch: int = 16) -> None:
        # deferred: Ray is an optional extra, loaded only by `serve --ray`
        from ray import serve

        self.predictor = predictor
        self.batches: list[int] = []  # sizes of the batches run so far (tests, logs)
        batch = serve.batch(max_batch_size=max_batch, batch_wait_timeout_s=wait_ms / 1000)
        self._batched = batch(self._run)

    async def _run(self, waves: list[np.ndarray]) -> list[Answer]:
        start = time.perf_counter()
        probs, stages = await anyio.to_thread.run_sync(timed_predict, self.predictor, waves)
        elapsed = (time.perf_counter() - start) * 1000
        self.batches.append(len(waves))
        return [(p, elapsed, stages) for p in probs]

    async def predict(self, waveform: np.ndarray) -> Answer:
        """Probabilities for one waveform, its batch's time (ms) and that time by stage."""
        answer: Answer = await self._batched(waveform)
        return answer

    async def close(self) -> None:
        """Nothing to stop: Ray Serve owns the batching loop."""


@dataclass(frozen=True)
class Scale:
    """How many replicas, and the CPUs each holds."""

    replicas: int = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    cpus_per_replica: float = 1.0

    @property
    def autoscaling(self) -> bool:
        return self.min_replicas is not None or self.max_replicas is not None

    def check(self) -> None:
        """Raise ValueError on counts that cannot run."""
        if self.replicas < 1 or self.cpus_per_replica <= 0:
            raise ValueError("--replicas must be at least 1 and --cpus-per-replica above 0")
        low = self.min_replicas if self.min_replicas is not None else 1
        high = self.max_replicas if self.max_replicas is not None else max(low, self.replicas)
        if (self.autoscaling and not 0 <= low <= high) or high < 1:
            raise ValueError(
                f"autoscaling needs 0 <= --min-replicas <= --max-replicas and at least one "
                f"replica at most, not {low}..{high}"
            )

    def deployment_options(self, settings: Settings) -> dict[str, Any]:
        """``serve.deployment`` options: the replica count or the autoscaling range, each
        replica's CPUs (also announced to its process, :data:`CORES_ENV`), and as many
        requests in flight per replica as the app admits at once (more get its 503)."""
        cores = str(max(1, int(self.cpus_per_replica)))
        options: dict[str, Any] = {
            "max_ongoing_requests": max(settings.max_concurrent_requests, settings.max_batch),
            "ray_actor_options": {
                "num_cpus": self.cpus_per_replica,
                "runtime_env": {"env_vars": {CORES_ENV: cores}},
            },
        }
        if self.autoscaling:
            low = self.min_replicas if self.min_replicas is not None else 1
            high = self.max_replicas if self.max_replicas is not None else max(low, self.replicas)
            options["autoscaling_config"] = {
                "min_replicas": low,
                "initial_replicas": min(max(self.replicas, low), high),
                "max_replicas": high,
                "target_ongoing_requests": TARGET_ONGOING,
            }
        else:
            options["num_replicas"] = self.replicas
        return options


def replica_settings(settings: Settings, scale: Scale) -> Settings:
    """``settings`` for one replica: its threads sized to its CPUs, one feedback key."""
    cores = max(1, int(scale.cpus_per_replica))
    return settings.model_copy(
        update={
            "inference_workers": cores,
            "onnx_threads": settings.onnx_threads or cores,
            "feedback_secret": settings.feedback_secret or secrets.token_urlsafe(32),
        }
    )


def _builder(settings: Settings) -> Callable[[], FastAPI]:
    """A function of no arguments that builds the app (Ray Serve calls it on each
    replica; it tells a builder from an ASGI app by its signature)."""

    def build() -> FastAPI:
        return create_app(settings, batcher=ServeBatcher)

    return build


def application(settings: Settings, scale: Scale) -> Any:
    """The Ray Serve application: the app of ``settings`` as the ingress of a deployment
    scaled by ``scale``."""
    # deferred: Ray is an optional extra, loaded only by `serve --ray`
    from ray import serve

    scale.check()
    ingress = serve.ingress(_builder(replica_settings(settings, scale)))()
    options = scale.deployment_options(settings)
    deployment = serve.deployment(name=APP_NAME, **options)(ingress)
    return deployment.bind()


def run(settings: Settings, scale: Scale, *, host: str, port: int, blocking: bool = True) -> None:
    """Start Ray Serve's proxy on ``host:port`` and deploy the application; with
    ``blocking``, serve until interrupted, then take the application down."""
    # deferred: Ray is an optional extra, loaded only by `serve --ray`
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    serve.run(application(settings, scale), name=APP_NAME, route_prefix="/", blocking=blocking)


SCALE_ARGS = ("replicas", "min_replicas", "max_replicas", "cpus_per_replica")


def app_builder(args: dict[str, str]) -> Any:
    """The application for Ray Serve's own tools (``serve run``, a ``serveConfigV2`` of a
    KubeRay RayService: ``import_path: audioclf.service.ray_serve:app_builder``): the
    settings from the environment (``AUDIOCLF_RUNS`` and the other ``AUDIOCLF_*``
    variables, as ``audioclf serve`` reads them), the scale from ``args``
    (:data:`SCALE_ARGS`, numbers as strings, as ``serve run`` passes them)."""
    stray = sorted(set(args) - set(SCALE_ARGS))
    if stray:
        raise ValueError(f"audioclf's Ray Serve app takes {', '.join(SCALE_ARGS)}, not {stray}")

    def number(name: str) -> float | None:
        value = args.get(name)
        try:
            return None if value in (None, "") else float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {value!r}") from None

    def whole(name: str) -> int | None:
        value = number(name)
        return None if value is None else int(value)

    scale = Scale(
        replicas=whole("replicas") or 1,
        min_replicas=whole("min_replicas"),
        max_replicas=whole("max_replicas"),
        cpus_per_replica=number("cpus_per_replica") or 1.0,
    )
    return application(get_settings(), scale)
