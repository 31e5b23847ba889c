"""GET /api/v1/health/live and /ready (no login: load balancers and orchestrators call them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from xueji.health.checks import readiness
from xueji.runtime import AppRuntime

router = APIRouter(tags=["health"])


@router.get("/health/live")
def live() -> dict[str, str]:
    """The process answers (it does not look at the database)."""
    return {"status": "live"}


@router.get(
    "/health/ready",
    responses={503: {"description": "Not ready: the body names the failing checks"}},
)
async def ready(runtime: AppRuntime) -> JSONResponse:
    """Ready to serve: the database answers, its schema is at the newest revision and a worker
    finished a pass recently; 503 with the failing checks otherwise."""
    result = await run_in_threadpool(readiness, runtime)
    return JSONResponse(
        {"status": "ready" if result.ready else "not_ready", "checks": result.checks},
        status_code=200 if result.ready else 503,
    )
