"""``audioclf serve RUN [RUN ...]``: the HTTP API and browser app under uvicorn."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from audioclf.cli.common import friendly_errors
from audioclf.console import out
from audioclf.features.threads import available_cores

RUNS_ENV = "AUDIOCLF_RUNS"
INFERENCE_WORKERS_ENV = "AUDIOCLF_INFERENCE_WORKERS"
REGISTRY_ENV = "AUDIOCLF_REGISTRY"
FEEDBACK_SECRET_ENV = "AUDIOCLF_FEEDBACK_SECRET"
TRAINING_ENV = "AUDIOCLF_TRAINING"


def share_feedback_secret(configured: str | None) -> None:
    """Give every worker process the same feedback-token key: the configured one, else a
    random one drawn here once (each worker drawing its own would refuse the tokens of
    predictions another worker answered)."""
    if configured is None and not os.environ.get(FEEDBACK_SECRET_ENV):
        os.environ[FEEDBACK_SECRET_ENV] = secrets.token_urlsafe(32)


@friendly_errors
def serve_cmd(
    runs: list[Path] | None = typer.Argument(None, help="Run folders to serve (each a model)."),
    registry: list[str] | None = typer.Option(
        None,
        "--registry",
        help="Serve the production version of this registry model (repeatable); "
        "promotions are picked up by POST /v1/admin/reload.",
    ),
    training: bool = typer.Option(
        False,
        "--training",
        help="Also make models over HTTP: datasets, training jobs and the 'Make a model' page "
        "at /make (needs AUDIOCLF_API_KEY; nothing else need be served at the start).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    proxy_headers: bool = typer.Option(
        False, help="Trust X-Forwarded-For from a reverse proxy (client IPs for rate limits)."
    ),
    member: str | None = typer.Option(
        None,
        "--member",
        help="Serve another model an auto run trained (a name in RUN/candidates/, listed "
        "in its report's front) instead of the one it chose; one RUN only.",
    ),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Serve with Ray Serve: the same app in --replicas processes on the cluster "
        "(RAY_ADDRESS, a `ray start` cluster on this machine, or a local Ray).",
    ),
    replicas: int = typer.Option(1, "--replicas", min=1, help="--ray: replicas to run."),
    min_replicas: int | None = typer.Option(
        None, "--min-replicas", min=0, help="--ray: autoscale from this many replicas."
    ),
    max_replicas: int | None = typer.Option(
        None, "--max-replicas", min=1, help="--ray: autoscale up to this many replicas."
    ),
    cpus_per_replica: float = typer.Option(
        1.0, "--cpus-per-replica", min=0.1, help="--ray: CPUs each replica holds (and uses)."
    ),
) -> None:
    """Serve trained models over HTTP: /v1 API, /docs, and the browser app at /."""
    import uvicorn

    # deferred: the service loads FastAPI, pydantic and SQLAlchemy; `audioclf --help` must not
    from audioclf.service.app import create_app
    from audioclf.service.settings import MAKE_A_KEY, Settings
    from audioclf.service.slow_clients import SlowClientGuard

    if ray and workers > 1:
        raise ValueError("--workers is uvicorn's; with --ray give --replicas N")
    runs, registry = runs or [], registry or []
    if training and ray:
        raise ValueError(
            "--training runs with uvicorn; leave out --ray (jobs use Ray when AUDIOCLF_JOBS_RAY=1)"
        )
    training = training or Settings().training
    if not runs and not registry and not training:
        raise ValueError(
            "nothing to serve: give run folders or --registry NAME (or --training, to make "
            "models in the browser)"
        )
    if training and Settings().api_key is None:
        raise ValueError(
            f"--training needs an admin key: set AUDIOCLF_API_KEY (make one with `{MAKE_A_KEY}`)"
        )
    if training:
        os.environ[TRAINING_ENV] = "1"  # every worker (and the settings cache) reads it
    if runs and registry:
        raise ValueError("give either run folders or --registry NAME, not both")
    if registry:
        # deferred: the registry loads SQLAlchemy; `audioclf --help` must not
        from audioclf.registry import Registry

        for name in registry:
            Registry().production(name)  # fail now on an unknown name or no production
        os.environ[REGISTRY_ENV] = ",".join(registry)
    missing = [str(r) for r in runs if not r.is_dir()]
    if missing:
        raise ValueError(f"not a run folder: {', '.join(missing)}; train one with `audioclf train`")
    # deferred: the run-folder checks load numpy; `audioclf --help` must not
    from audioclf.features.speaker_norm import NormStats, check_servable
    from audioclf.formats.runfolder import RunFolder

    if member is not None:
        if len(runs) != 1:
            raise ValueError("--member picks a model of one auto run: give exactly one RUN")
        runs = [RunFolder(runs[0]).candidate(member).root]

    for run in runs:
        check_servable(run, RunFolder(run).read_card().speaker_norm, NormStats.read(run))
    resolved = [r.resolve() for r in runs]
    # every worker (and the settings cache) reads the runs from the environment
    os.environ[RUNS_ENV] = ",".join(str(r) for r in resolved)
    if ray:
        _serve_on_ray(
            Settings(runs=resolved, registry=registry),
            ScaleOptions(replicas, min_replicas, max_replicas, cpus_per_replica),
            host,
            port,
        )
        return
    out.print(f"serving at http://{host}:{port}", highlight=False)
    if training:
        out.print(f"make a model at http://{host}:{port}/make", highlight=False)
    if workers > 1:
        # the worker processes share the cores: each extracts on its share of them
        os.environ.setdefault(INFERENCE_WORKERS_ENV, str(max(1, available_cores() // workers)))
        # fail now, not in every worker, on bad settings
        settings = Settings(runs=resolved, registry=registry)
        share_feedback_secret(settings.feedback_secret)
        uvicorn.run(
            "audioclf.service.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=proxy_headers,
            http=SlowClientGuard,
        )
        return
    app = create_app(Settings(runs=resolved, registry=registry))
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=proxy_headers,
        http=SlowClientGuard,
    )


@dataclass(frozen=True)
class ScaleOptions:
    """``--replicas``, ``--min-replicas``, ``--max-replicas``, ``--cpus-per-replica``."""

    replicas: int
    min_replicas: int | None
    max_replicas: int | None
    cpus_per_replica: float


def _serve_on_ray(settings: Any, options: ScaleOptions, host: str, port: int) -> None:
    """Deploy the app on Ray Serve after checking every node reads the run folders;
    serve until interrupted."""
    # deferred: Ray is an optional extra, loaded only by `serve --ray`
    from audioclf.jobs.cluster import check_shared_storage, connect, disconnect
    from audioclf.service.ray_serve import Scale, run

    scale = Scale(
        options.replicas, options.min_replicas, options.max_replicas, options.cpus_per_replica
    )
    scale.check()
    connected = connect()
    try:
        check_shared_storage([*settings.runs], [])
        out.print(f"serving at http://{host}:{port} on Ray Serve", highlight=False)
        run(settings, scale, host=host, port=port)
    finally:
        disconnect(connected)
