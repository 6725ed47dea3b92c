"""Liveness and readiness: `/health` never touches the database; `/health/ready` probes it every time,
on the reserved connections of the operations loop, so a flood of requests does not queue it."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from entrypoints.operations import OperationsThread
from market_data_client.contract import Health, Readiness


@get("/health", sync_to_thread=False, summary="Liveness: the process is up (no database call)")
def health() -> Health:
    return Health(status="ok")


@get(
    "/health/ready",
    summary="Readiness: 200 when the database answers, 503 with a reason when it does not",
    responses={
        503: ResponseSpec(data_container=Readiness, description="The database is unreachable", generate_examples=False)
    },
)
async def ready(operations: NamedDependency[OperationsThread]) -> Response[Readiness]:
    result = await operations.database_health()
    if result.healthy:
        return Response(Readiness("ready", True, result.latency_ms))
    return Response(Readiness("not_ready", False, reason=f"database: {result.error}"), status_code=503)
