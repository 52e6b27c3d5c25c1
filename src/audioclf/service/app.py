"""``create_app(settings)``: the FastAPI application that serves trained run folders."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audioclf.registry.db import session_factory
from audioclf.registry.feedback import sweep_orphans
from audioclf.registry.predictions import PredictionLog
from audioclf.service.decode import DecodePool
from audioclf.service.docs_page import add_offline_docs, asset_paths
from audioclf.service.engine import Batcher, BatcherFactory, ModelNotServedError
from audioclf.service.limits import ConnectionSlots, RateLimiter, WorkSlots
from audioclf.service.openapi_errors import document_400_for_invalid_requests
from audioclf.service.registry_models import close_registry, make_pool
from audioclf.service.routes import (
    admin,
    datasets,
    feedback,
    health,
    jobs,
    models,
    monitoring,
    predict,
    stream,
)
from audioclf.service.settings import Settings, get_settings
from audioclf.service.training import attach_training, make_training

log = logging.getLogger("audioclf.service")

WEB_DIR = Path(__file__).parent / "web"

# 'wasm-unsafe-eval' lets the page compile WebAssembly (onnxruntime-web, on-device mode)
# and nothing else: eval and inline scripts stay blocked. Workers come from the app's own
# files only. CORP keeps every answer off other origins' pages.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
        "style-src 'self'; media-src 'self' blob:; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Permissions-Policy": "microphone=(self)",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}
"""Cross-origin isolation, which SharedArrayBuffer and so the multi-threaded WASM build
need. Sent only to a page the browser deems trustworthy (HTTPS, or a loopback host): on
plain HTTP elsewhere it ignores them and logs an error for each answer."""

LOOPBACK_HOSTS = ("localhost", "::1")

WEB_MEDIA_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
"""Types of the browser app's code, set here rather than guessed from the host's
mime.types (a slim image has none): WebAssembly streams only as application/wasm, and an
ES module loads only with a JavaScript type."""


class Observer:
    """Prometheus metrics of one app, in its own registry (many apps can live in a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "audioclf_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "audioclf_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.loaded = Gauge(
            "audioclf_model_loaded",
            "1 for each loaded model.",
            ["model"],
            registry=self.registry,
        )

    def update_models(self, names: list[str]) -> None:
        """Set the load-state gauge to exactly the loaded models."""
        self.loaded.clear()
        for name in names:
            self.loaded.labels(model=name).set(1)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request and record its latency."""
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)


def _trustworthy(request: Request) -> bool:
    """Whether a browser treats the request's origin as potentially trustworthy (the
    scheme is the client's one behind a proxy run with --proxy-headers)."""
    host = (request.url.hostname or "").lower()
    loopback = host in LOOPBACK_HOSTS or host.endswith(".localhost") or host.startswith("127.")
    return request.url.scheme == "https" or loopback


def _route_name(request: Request) -> str:
    """A bounded label for the metrics: the route's path (its template, such as
    ``/v1/models/{name}/web``, for a route with parameters), never an arbitrary client
    path."""
    path = request.url.path
    known: frozenset[str] = request.app.state.route_paths
    if path in known:
        return path
    templates: list[tuple[re.Pattern[str], str]] = request.app.state.route_templates
    for pattern, template in templates:
        if pattern.fullmatch(path):
            return template
    return "/static" if path.startswith("/static/") else "unmatched"


def _route_paths(app: FastAPI) -> frozenset[str]:
    """Every path without parameters the app answers."""
    paths = set(app.openapi()["paths"]) | {"/v1/stream", "/", "/make", "/openapi.json"}
    return frozenset(p for p in paths | asset_paths() if "{" not in p)


def _route_templates(app: FastAPI) -> list[tuple[re.Pattern[str], str]]:
    """The app's paths with parameters, each with a pattern its requests match."""
    templates = [p for p in app.openapi()["paths"] if "{" in p]
    return [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t))), t) for t in templates]


def _validation_message(err: RequestValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(err)}, 400)

    @app.exception_handler(ModelNotServedError)
    async def unknown_model(request: Request, err: ModelNotServedError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, 404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(err.detail)}, err.status_code, headers=err.headers)


class MeasureAndSecure:
    """ASGI middleware: every HTTP answer counted in the metrics and given the security
    headers; an unhandled error becomes a JSON 500. Written as plain ASGI rather than with
    ``@app.middleware`` (Starlette's BaseHTTPMiddleware), which wraps ``receive`` so that
    ``Request.is_disconnected()`` never sees a client leave, and abandoned work would run
    on (service/cancel.py)."""

    def __init__(self, app: ASGIApp, observer: Observer) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: list[int] = []

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
                if _trustworthy(request):
                    for key, value in ISOLATION_HEADERS.items():
                        headers.setdefault(key, value)
            await send(message)

        request = Request(scope)
        try:
            await self.app(scope, receive, secured)
        except Exception:
            log.exception("unhandled error on %s", _route_name(request))
            if status:  # the answer has begun: nothing sensible can follow
                raise
            await JSONResponse({"detail": "internal server error"}, 500)(scope, receive, secured)
        finally:
            self.observer.observe(
                _route_name(request),
                request.method,
                status[0] if status else 500,
                time.perf_counter() - start,
            )


def _add_middleware(app: FastAPI, settings: Settings, observer: Observer) -> None:
    app.add_middleware(MeasureAndSecure, observer=observer)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )


class WebFiles(StaticFiles):
    """The browser app's files, with :data:`WEB_MEDIA_TYPES` for its code."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = WEB_MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type:
            response.headers["Content-Type"] = media_type
        return response


def _add_web(app: FastAPI, web_dir: Path) -> None:
    """Serve the browser app at ``/`` and its files at ``/static`` when it is installed."""
    index = web_dir / "index.html"
    if not index.is_file():
        return
    app.mount("/static", WebFiles(directory=web_dir), name="static")

    @app.get("/", include_in_schema=False)
    def show_app() -> FileResponse:
        """The browser app."""
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    @app.get("/make", include_in_schema=False)
    def show_make_a_model() -> FileResponse:
        """The 'Make a model' page (it needs the server's training API and admin key)."""
        return FileResponse(web_dir / "make.html", headers={"Cache-Control": "no-cache"})


def create_app(
    settings: Settings | None = None,
    *,
    web_dir: Path | None = None,
    batcher: BatcherFactory = Batcher,
) -> FastAPI:
    """Build the app: load the run folders of ``settings`` (each model's requests batched
    by ``batcher``) and mount every router."""
    settings = settings or get_settings()
    pool = make_pool(settings, batcher=batcher)
    observer = Observer()
    observer.update_models(pool.names)

    training = make_training(settings, pool) if settings.training else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if training is not None:
            await training.runner.start()
        yield
        if training is not None:
            await training.runner.stop()
        await app.state.pool.close()
        app.state.decoder.close()
        close_registry(app)

    app = FastAPI(
        title="audioclf",
        summary="Audio classification: what the trained models hear in a clip.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.work_slots = WorkSlots(settings.max_concurrent_requests)
    app.state.decoder = DecodePool(settings.decode_workers, settings.decode_memory_bytes)
    app.state.streams = ConnectionSlots(settings.max_streams, settings.max_streams_per_client)
    app.state.observer = observer
    for router in (models.router, predict.router, stream.router, admin.router):
        app.include_router(router, prefix="/v1")
    app.include_router(health.router)
    attach_registry(app, settings)
    attach_training(app, training)
    if training is not None:
        for router in (datasets.router, jobs.router):
            app.include_router(router, prefix="/v1")
    _add_handlers(app)
    document_400_for_invalid_requests(app)
    _add_middleware(app, settings, observer)
    add_offline_docs(app)
    _add_web(app, web_dir or WEB_DIR)
    app.state.route_paths = _route_paths(app)
    app.state.route_templates = _route_templates(app)
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` (several workers): settings from the environment."""
    return create_app(get_settings())


def attach_registry(app: FastAPI, settings: Settings) -> None:
    """Prediction log, feedback and monitoring routes, for an app serving a registry."""
    if not settings.registry:
        return
    app.state.prediction_log = PredictionLog(session_factory(settings.db_url))
    app.state.feedback_dir = settings.feedback_dir
    # hashes client addresses in the feedback pool's manifest; a new salt per process
    # start, so the hashes cannot be matched against other logs
    app.state.client_salt = secrets.token_hex(16)
    # signs the feedback tokens handed out with predictions (service/feedback_tokens.py)
    app.state.feedback_secret = settings.feedback_secret or secrets.token_urlsafe(32)
    sweep_orphans(app.state.prediction_log.sessions, settings.feedback_dir)
    app.include_router(feedback.router, prefix="/v1")
    app.include_router(monitoring.router, prefix="/v1")
