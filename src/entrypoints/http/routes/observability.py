"""`/status/ingestion` and `/metrics`: honest figures within a second, also while the database is down.

Both answer 200 whenever they could form a report, also when ingestion is dead
or the database unreachable: the report is the resource, `status` and
`db_healthy` are data in it. `/health/ready` is the endpoint whose status code
tells a load balancer whether to send traffic.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from application.ingestion_status import GetIngestionStatus, IngestionReport
from application.ports import DatabaseHealth, HealthProbe, Leadership
from entrypoints.http import prometheus
from entrypoints.http.latency import LatencyRecorder
from entrypoints.http.openapi import OPERATOR_SECURITY, problem_responses
from entrypoints.http.security import operator_guard
from entrypoints.http.status_responses import Runtime, metrics_response, status_response
from market_data_client.contract import IngestionStatusResponse, MetricsResponse

NO_STORE = {"Cache-Control": "no-store"}


async def _measure(get_status: GetIngestionStatus, probe: HealthProbe) -> tuple[IngestionReport, DatabaseHealth]:
    """Probe the database and read the figures side by side; each is bounded by its own short deadline."""
    report, health = await asyncio.gather(get_status(), probe.check())
    return report, health


@get(
    "/status/ingestion",
    summary="Ingestion freshness: alive or dead, heartbeat age, DB health; 200 even when dead or the DB is down",
)
async def ingestion_status(
    get_ingestion_status_use_case: NamedDependency[GetIngestionStatus],
    status_probe: NamedDependency[HealthProbe],
    runtime: NamedDependency[Runtime],
) -> Response[IngestionStatusResponse]:
    report, health = await _measure(get_ingestion_status_use_case, status_probe)
    return Response(status_response(report, health, runtime), headers=NO_STORE)


@get(
    "/metrics",
    guards=[operator_guard],
    security=OPERATOR_SECURITY,
    responses=problem_responses(401),
    summary="Counts, latency per route, DB health, uptime and ingestion stats (JSON; Prometheus text on request)",
    description=(
        "JSON by default. `Accept: text/plain` gives the Prometheus text format, "
        "`Accept: application/openmetrics-text` gives OpenMetrics (what Prometheus asks for)."
    ),
)
async def metrics(
    request: Request[Any, Any, Any],
    get_ingestion_status_use_case: NamedDependency[GetIngestionStatus],
    status_probe: NamedDependency[HealthProbe],
    runtime: NamedDependency[Runtime],
    latency: NamedDependency[LatencyRecorder],
    leadership: NamedDependency[Leadership],
) -> Response[MetricsResponse] | Response[bytes]:
    report, health = await _measure(get_ingestion_status_use_case, status_probe)
    routes = latency.snapshot()
    body = metrics_response(report, health, runtime, routes, leadership.is_leader)
    media = prometheus.wants_prometheus(request.headers.get("accept", ""))
    if media is None:
        return Response(body, headers={**NO_STORE, "Vary": "Accept"})
    text, content_type = prometheus.render(body, routes, media)
    return Response(text, media_type=content_type, headers={**NO_STORE, "Vary": "Accept"})
