"""Liveness and readiness: `/health` never touches the database, `/health/ready` always does."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from adapters.postgres.engine import PostgresHealthProbe
from entrypoints.container import resolve
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
async def ready(state: State) -> Response[Readiness]:
    probe: PostgresHealthProbe = await resolve(state.container.gateways.health_probe)
    result = await probe.check()
    if result.healthy:
        return Response(Readiness("ready", True, result.latency_ms))
    return Response(Readiness("not_ready", False, reason=f"database: {result.error}"), status_code=503)
