"""create_app(): routers, exception handlers, and the start-up work (migrate, deploy, demo)."""

from __future__ import annotations

import gc
import logging
import threading
import uuid
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from xueji.accounts.endpoints import router as accounts_router
from xueji.audit.endpoints import router as audit_router
from xueji.auth.dependencies import current_principal
from xueji.auth.endpoints import public as auth_public
from xueji.auth.endpoints import router as auth_router
from xueji.config import Settings, get_settings
from xueji.db.conflicts import CONCURRENT_CHANGE, is_transient
from xueji.definitions.endpoints import router as definitions_router
from xueji.demo_endpoints import router as demo_router
from xueji.documents.endpoints import router as documents_router
from xueji.errors import XuejiError
from xueji.events.endpoints import router as events_router
from xueji.exports.endpoints import router as exports_router
from xueji.forms.endpoints import router as choices_router
from xueji.health.endpoints import router as health_router
from xueji.health.metrics import install_metrics
from xueji.imports.endpoints import router as imports_router
from xueji.instances.endpoints import router as instances_router
from xueji.instances.incidents import record_incident
from xueji.instances.steps import LOST_UPDATE
from xueji.messages.endpoints import router as messages_router
from xueji.openapi import install_openapi
from xueji.operations.endpoints import router as operations_router
from xueji.request_limits import RequestLimits
from xueji.runtime import Runtime
from xueji.scheduler.endpoints import router as jobs_router
from xueji.scheduler.worker import run_forever
from xueji.startup import prepare
from xueji.stations.endpoints import router as stations_router
from xueji.students.endpoints import router as students_router
from xueji.tasks.endpoints import router as tasks_router
from xueji.tasks.overdue import router as overdue_router
from xueji.uploads.endpoints import router as uploads_router
from xueji.web import mount_web
from xueji.wiring import build_runtime

log = logging.getLogger("xueji")

API_PREFIX = "/api/v1"
# Every router behind authentication. A request is matched against the routes in this order,
# so the inbox and the steps (most of all requests) come first; the documentation follows it.
SECURED_ROUTERS = (
    tasks_router,
    instances_router,
    auth_router,
    accounts_router,
    audit_router,
    definitions_router,
    operations_router,
    students_router,
    uploads_router,
    messages_router,
    events_router,
    jobs_router,
    overdue_router,
    stations_router,
    choices_router,
    documents_router,
    imports_router,
    exports_router,
)


_HTTP_ERRORS = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestTooLarge",
    415: "UnsupportedMediaType",
}


def _error(status: int, error: str, detail, headers=None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XuejiError)
    async def xueji_error(request: Request, exc: XuejiError):
        incident = getattr(exc, "incident", None)
        if incident is not None:
            # The step was rolled back with the request's session; what failed is kept, in a
            # transaction of its own.
            await run_in_threadpool(record_incident, request.app.state.runtime.db, incident)
        # A 503 is a known state of the service (e.g. the PDF font is not installed), said to
        # the client with its reason; any other 5xx is a bug, logged and hidden.
        if exc.status_code >= 500 and exc.status_code != 503:
            return _unexpected(exc)
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return _error(exc.status_code, exc.error, exc.detail, headers or None)

    @app.exception_handler(StaleDataError)
    async def lost_update(_request: Request, _exc: StaleDataError):
        return _error(409, "Conflict", LOST_UPDATE)

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError):
        # PostgreSQL broke a deadlock (or a lock could not be had) by rolling this request
        # back: a conflict to retry, not a server fault. Anything else stays a 500.
        if is_transient(exc):
            return _error(409, "Conflict", CONCURRENT_CHANGE, {"Retry-After": "1"})
        return _unexpected(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        # Starlette's own answers (an unknown path, a wrong method, a body that is not
        # JSON) in the service's {error, detail} shape.
        error = _HTTP_ERRORS.get(exc.status_code, "HTTPError")
        return _error(exc.status_code, error, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError):
        detail = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        return _error(422, "InvalidInput", detail)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception):
        return _unexpected(exc)


def _unexpected(exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex
    log.error("unexpected error, request %s", request_id, exc_info=exc)
    return _error(
        500,
        "InternalError",
        {"request_id": request_id, "message": "unexpected error; see the server log"},
    )


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    prepare_on_start: bool = True,
    freeze_startup: bool = False,
) -> FastAPI:
    """The service. `freeze_startup` (`xueji serve`): what start-up made (modules, the app,
    the deployed definitions) lives as long as the process, so after start-up it is collected
    once and then kept out of the garbage collector's sight (`gc.freeze`): a full collection
    then scans only what requests made, instead of pausing every request in flight (on the
    bench's heap, its longest pause went from 170 ms to 19 ms)."""
    settings = settings or get_settings()
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if prepare_on_start:
            prepare(runtime)
        if freeze_startup:
            gc.collect()
            gc.freeze()
        stop = threading.Event()
        worker = None
        if settings.run_worker:
            worker = threading.Thread(
                target=run_forever,
                name="xueji-worker",
                daemon=True,
                args=(runtime, stop, settings.worker_poll_seconds),
            )
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=10)

    app = FastAPI(
        title="xueji 学籍",
        version="0.1.0",
        lifespan=lifespan,
        description="Workflow service of the student-records office (学籍管理).",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        RequestLimits,
        max_request_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )

    install_metrics(app, runtime)

    # Each router is included into the app itself, one level deep: FastAPI matches a request
    # by walking the tree of included routers at every level, so a deeper tree costs every
    # request more (a completion's routing took ~3x longer under /api/v1 → secured → tasks).
    public = [auth_public, health_router] + ([demo_router] if settings.demo else [])
    for router in public:
        app.include_router(router, prefix=API_PREFIX)
    for router in SECURED_ROUTERS:
        app.include_router(
            router,
            prefix=API_PREFIX,
            dependencies=[Depends(current_principal)],
            responses={401: {"description": "Not authenticated"}},
        )
    mount_web(app)
    return app
