"""``/healthz``, ``/readyz`` and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from audioclf.service.deps import PoolDep
from audioclf.service.schemas import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
def check_health(request: Request) -> HealthResponse:
    """Answer while the process is up, saying whether training over HTTP is on."""
    return HealthResponse(training=getattr(request.app.state, "training", None) is not None)


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse, "description": "No model is loaded."}},
)
def check_ready(pool: PoolDep) -> ReadyResponse | JSONResponse:
    """Answer 200 with the model names once at least one model is loaded, else 503."""
    if not pool.names:
        return JSONResponse({"detail": "no model loaded; pass run folders to serve"}, 503)
    return ReadyResponse(models=pool.names)


@router.get("/metrics", response_class=Response)
def export_metrics(request: Request) -> Response:
    """Prometheus metrics: requests by route and status, latencies, model load state."""
    observer = request.app.state.observer
    observer.update_models(request.app.state.pool.names)
    return Response(generate_latest(observer.registry), media_type=CONTENT_TYPE_LATEST)
