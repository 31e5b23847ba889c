"""GET /metrics in Prometheus' text format.

Two kinds of series:
- requests (`xueji_http_requests_total`, `xueji_http_request_duration_seconds`) are counted
  by each process in memory: with several `xueji serve` processes, scrape every one (each
  has its own `instance` label in Prometheus) and sum;
- everything about the work (steps, failures, timers, outbox, webhooks, incidents) is read
  from the database when scraped, so every process answers the same figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xueji import clock
from xueji.models import (
    HistoryEvent,
    Incident,
    OutboxEvent,
    ProcessDefinition,
    ProcessInstance,
    Timer,
    WebhookDelivery,
)
from xueji.models.states import TimerState
from xueji.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A due timer not fired after this long is late: the workers are behind or down.
LATE_AFTER = timedelta(minutes=1)


class WorkCollector(Collector):
    """Figures of the work, computed from the database at each scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        try:
            figures = list(self._figures())
        except Exception:  # the database is gone: say so rather than fail the scrape
            figures = []
        yield GaugeMetricFamily(
            "xueji_database_up",
            "1 when the database answered this scrape",
            value=int(bool(figures)),
        )
        yield from figures

    def _figures(self) -> Iterator[Metric]:
        now = clock.now()
        steps = CounterMetricFamily(
            "xueji_steps", "Completed diagram elements, by process", labels=["process"]
        )
        failures = CounterMetricFamily(
            "xueji_step_failures", "Steps that failed and left an incident", labels=["process"]
        )
        incidents = GaugeMetricFamily(
            "xueji_incidents_open", "Incidents not resolved yet", labels=["process"]
        )
        with self.runtime.db.reader() as session:
            by_process = (
                select(ProcessDefinition.key, func.count())
                .select_from(HistoryEvent)
                .join(ProcessInstance, ProcessInstance.id == HistoryEvent.instance_id)
                .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                .where(HistoryEvent.kind == "element_completed")
                .group_by(ProcessDefinition.key)
            )
            for key, count in session.execute(by_process):
                steps.add_metric([key], count)
            incident_rows = (
                select(ProcessDefinition.key, Incident.resolved_at.is_(None), func.count())
                .select_from(Incident)
                .outerjoin(ProcessDefinition, ProcessDefinition.id == Incident.definition_id)
                .group_by(ProcessDefinition.key, Incident.resolved_at.is_(None))
            )
            totals: dict[str, int] = {}
            open_: dict[str, int] = {}
            for key, is_open, count in session.execute(incident_rows):
                label = key or ""
                totals[label] = totals.get(label, 0) + count
                if is_open:
                    open_[label] = open_.get(label, 0) + count
            for label, count in sorted(totals.items()):
                failures.add_metric([label], count)
                incidents.add_metric([label], open_.get(label, 0))
            pending = Timer.state == TimerState.PENDING
            due = session.scalar(select(func.count()).where(pending, Timer.due_at <= now))
            late = session.scalar(
                select(func.count()).where(pending, Timer.due_at <= now - LATE_AFTER)
            )
            failed_timers = session.scalar(
                select(func.count()).where(Timer.state == TimerState.FAILED)
            )
            backlog, oldest = session.execute(
                select(func.count(), func.min(OutboxEvent.at))
                .select_from(WebhookDelivery)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.state == "pending")
            ).one()
            webhook_failed = session.scalar(
                select(func.count()).where(WebhookDelivery.state == "failed")
            )
        yield steps
        yield failures
        yield incidents
        yield GaugeMetricFamily("xueji_timers_due", "Pending timers that are due", value=due)
        yield GaugeMetricFamily(
            "xueji_timers_late",
            f"Pending timers due more than {int(LATE_AFTER.total_seconds())} s ago",
            value=late,
        )
        yield GaugeMetricFamily(
            "xueji_timers_failed", "Timers that failed every attempt", value=failed_timers
        )
        yield GaugeMetricFamily(
            "xueji_outbox_backlog", "Webhook deliveries waiting to be sent", value=backlog
        )
        age = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "xueji_outbox_oldest_age_seconds",
            "Age of the oldest event waiting for a webhook delivery",
            value=age,
        )
        yield GaugeMetricFamily(
            "xueji_webhook_failures",
            "Webhook deliveries given up after every attempt",
            value=webhook_failed,
        )


class Metrics:
    """One registry per app: request series (this process) and the work collector."""

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "xueji_http_requests",
            "HTTP requests answered by this process, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "xueji_http_request_duration_seconds",
            "Time to answer an HTTP request in this process, by route template",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(WorkCollector(runtime))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: counts each request by its route's template (`/api/v1/tasks/{id}`,
    never the raw path, so the series stay few) and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics, templates: Callable[[], dict]) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = self.templates().get(id(route)) or getattr(route, "path", "<unmatched>")
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)


def install_metrics(app, runtime: Runtime) -> None:
    """GET /metrics (no login; keep it behind the proxy) and the request middleware."""
    metrics = Metrics(runtime)
    templates: dict[int, str] = {}

    def full_templates() -> dict[int, str]:
        # A route included by routers knows only its own part of the path; its full template
        # is its context's (built once, at the first request, when every router is in).
        if not templates:
            for context in iter_route_contexts(app.routes):
                route = getattr(context, "original_route", context)
                templates.setdefault(id(route), context.path)
        return templates

    async def endpoint(_request: Request) -> Response:
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    app.add_route("/metrics", endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics, metrics=metrics, templates=full_templates)
