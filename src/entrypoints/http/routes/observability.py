"""`/status/ingestion` and `/metrics`: honest figures within a second, also while the database is down.

Both answer 200 whenever they could form a report, also when ingestion is dead
or the database unreachable: the report is the resource, `status` and
`db_healthy` are data in it. `/health/ready` is the endpoint whose status code
tells a load balancer whether to send traffic.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import MediaType, Request, Response, get
from litestar.di import NamedDependency

from entrypoints.http import prometheus
from entrypoints.http.openapi import OPERATOR_SECURITY, problem_responses
from entrypoints.http.security import operator_guard
from entrypoints.http.status_responses import StatusReporter
from market_data_client.contract import IngestionStatusResponse, MetricsResponse

NO_STORE = {"Cache-Control": "no-store"}


@get(
    "/status/ingestion",
    summary="Ingestion freshness: alive or dead, heartbeat age, DB health; 200 even when dead or the DB is down",
)
async def ingestion_status(status_reporter: NamedDependency[StatusReporter]) -> Response[IngestionStatusResponse]:
    # Encoded by the reporter (which may share it while busy); the annotation is what the schema shows.
    body = await status_reporter.status()
    return cast(Response[IngestionStatusResponse], Response(body, media_type=MediaType.JSON, headers=NO_STORE))


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
    request: Request[Any, Any, Any], status_reporter: NamedDependency[StatusReporter]
) -> Response[MetricsResponse] | Response[bytes]:
    media = prometheus.wants_prometheus(request.headers.get("accept", ""))
    body, content_type = await status_reporter.metrics(media)
    response = Response(body, media_type=content_type, headers={**NO_STORE, "Vary": "Accept"})
    return cast(Response[MetricsResponse], response) if media is None else response
