"""``POST /v1/admin/reload``: load the run folders again (needs the API key)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, HTTPException, Request

from audioclf.service.deps import AdminDep, PoolDep, RateLimited
from audioclf.service.schemas import ErrorResponse, ReloadResponse

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[RateLimited, AdminDep],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key."},
        403: {"model": ErrorResponse, "description": "Admin API disabled (no key set)."},
    },
)


@router.post("/reload", response_model=ReloadResponse)
async def reload_models(pool: PoolDep, request: Request) -> ReloadResponse:
    """Reload every run folder (e.g. after retraining) and list the loaded models."""
    old = list(pool.batchers.values())
    try:
        names = await anyio.to_thread.run_sync(pool.reload)
    except ValueError as err:
        raise HTTPException(500, f"reload failed, the previous models stay loaded: {err}") from None
    for batcher in old:
        await batcher.close()
    request.app.state.observer.update_models(names)
    return ReloadResponse(models=names)
