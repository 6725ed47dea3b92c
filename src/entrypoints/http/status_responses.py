"""The JSON of `/status/ingestion` and `/metrics` (types in market_data_client.contract), built from what was measured.

Both documents only ever grow: fields are added, never renamed or removed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from application.ingestion_status import IngestionReport
from application.ports import DatabaseHealth
from entrypoints.http import prometheus
from entrypoints.http.admission import ShedCounts
from entrypoints.http.demand import Demand
from entrypoints.http.histogram import thousandths
from entrypoints.http.latency import WINDOW_SECONDS, LatencyRecorder, RouteLatency
from entrypoints.operations import OperationsThread
from market_data_client.contract import (
    Counts,
    IngestionStats,
    IngestionStatusResponse,
    Latency,
    MetricsResponse,
    RequestsShed,
    RouteLatencyResponse,
)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Who and since when this process is: identity for replicas, uptime from a monotonic clock."""

    instance_id: str
    version: str
    started_at: datetime
    started_monotonic: float = field(default_factory=time.monotonic)

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started_monotonic, 3)


SHARED_FOR_SECONDS = 0.25
"""How old an answer busy status endpoints may share: at most four reads and renderings a second."""
BUSY_REQUESTS_PER_SECOND = 50
"""Below this many requests a second to an endpoint each request measures anew (requests arriving
together share one read), so a change shows in the next answer; above it, answers are shared."""
JSON = "application/json"


class StatusReporter:
    """Builds `/status/ingestion` and `/metrics` from the operations loop's snapshot, judged now.

    While an endpoint is busy its encoded answer is shared for up to a quarter second, so a flood of
    polls costs four renderings a second. One dependency for both handlers: Litestar resolves several
    dependencies of one handler in a task group per request, which cost more than the answer.
    """

    def __init__(
        self,
        operations: OperationsThread,
        runtime: Runtime,
        latency: LatencyRecorder,
        shed: ShedCounts,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._operations = operations
        self._runtime = runtime
        self._latency = latency
        self._shed = shed
        self._monotonic = monotonic
        self._demand: dict[str, Demand] = {}
        self._shared: dict[tuple[str, str], tuple[float, bytes]] = {}

    async def status(self) -> bytes:
        return await self._answer("status", JSON, self._render_status)

    async def metrics(self, media: str | None) -> tuple[bytes, str]:
        """JSON, or the Prometheus `media` asked for, with its content type."""
        content_type = JSON if media is None else prometheus.content_type(media)
        return await self._answer(
            "metrics", media or JSON, lambda max_age: self._render_metrics(max_age, media)
        ), content_type

    async def _answer(self, endpoint: str, media: str, render: Callable[[float], Awaitable[bytes]]) -> bytes:
        demand = self._demand.setdefault(endpoint, Demand(BUSY_REQUESTS_PER_SECOND, self._monotonic))
        if not demand.busy():
            return await render(0.0)
        shared = self._shared.get((endpoint, media))
        if shared is not None and self._monotonic() - shared[0] <= SHARED_FOR_SECONDS:
            return shared[1]
        body = await render(SHARED_FOR_SECONDS)
        self._shared[(endpoint, media)] = (self._monotonic(), body)
        return body

    async def _render_status(self, max_age: float) -> bytes:
        snapshot = await self._operations.measure(max_age)
        report = snapshot.report.as_of(datetime.now(UTC))
        return msgspec.json.encode(status_response(report, snapshot.health, self._runtime))

    async def _render_metrics(self, max_age: float, media: str | None) -> bytes:
        snapshot = await self._operations.measure(max_age)
        report = snapshot.report.as_of(datetime.now(UTC))
        routes = self._latency.snapshot()
        response = metrics_response(
            report, snapshot.health, self._runtime, routes, snapshot.is_leader, self._shed.response()
        )
        if media is None:
            return msgspec.json.encode(response)
        return prometheus.render(response, routes, media)[0]


def db_healthy(report: IngestionReport, health: DatabaseHealth) -> bool:
    """Healthy only when the trivial query answered and the figures were read just now."""
    return health.healthy and report.store_error is None


def db_error(report: IngestionReport, health: DatabaseHealth) -> str | None:
    return health.error or report.store_error


def status_response(report: IngestionReport, health: DatabaseHealth, runtime: Runtime) -> IngestionStatusResponse:
    fresh = report.freshness
    watermark = report.statistics.watermark if report.statistics else None
    return IngestionStatusResponse(
        status=fresh.status.value,
        heartbeat_at=fresh.heartbeat_at,
        heartbeat_age_seconds=thousandths(fresh.heartbeat_age_seconds),
        last_trade_at=fresh.last_trade_at,
        seconds_since_last_trade=thousandths(fresh.seconds_since_last_trade),
        stale_after_seconds=round(fresh.stale_after_seconds, 6),
        interval_seconds=fresh.interval_seconds,
        db_healthy=db_healthy(report, health),
        db_latency_ms=health.latency_ms,
        db_error=db_error(report, health),
        figures_source=report.source.value,
        figures_read_at=report.read_at,
        started_at=runtime.started_at,
        uptime_seconds=runtime.uptime_seconds(),
        instance_id=runtime.instance_id,
        watermark=watermark,
        watermark_age_seconds=thousandths(fresh_age(watermark, report)),
    )


def fresh_age(moment: datetime | None, report: IngestionReport) -> float | None:
    if moment is None or report.checked_at is None:
        return None
    return max(0.0, (report.checked_at - moment).total_seconds())


def ingestion_stats(report: IngestionReport, health: DatabaseHealth, runtime: Runtime) -> IngestionStats:
    beat = report.statistics.heartbeat if report.statistics else None
    return IngestionStats(
        **msgspec.structs.asdict(status_response(report, health, runtime)),
        batches_committed=beat.batches_committed if beat else None,
        trades_ingested=beat.trades_ingested if beat else None,
        last_batch_trades=beat.last_batch_trades if beat else None,
        last_batch_duration_ms=thousandths(beat.last_batch_duration_ms) if beat else None,
        failed_attempts=beat.failed_attempts if beat else None,
        last_error=beat.last_error if beat else None,
        last_error_at=beat.last_error_at if beat else None,
    )


def metrics_response(
    report: IngestionReport,
    health: DatabaseHealth,
    runtime: Runtime,
    routes: list[RouteLatency],
    is_ingestion_leader: bool = False,
    requests_shed: RequestsShed | None = None,
) -> MetricsResponse:
    stats = report.statistics
    return MetricsResponse(
        instance_id=runtime.instance_id,
        version=runtime.version,
        started_at=runtime.started_at,
        uptime_seconds=runtime.uptime_seconds(),
        db_healthy=db_healthy(report, health),
        db_latency_ms=health.latency_ms,
        db_error=db_error(report, health),
        counts=Counts(
            trades=stats.trades if stats else None,
            candles=stats.candles if stats else None,
            exact=True,
            source=report.source.value,
            read_at=report.read_at,
        ),
        ingestion=ingestion_stats(report, health, runtime),
        latency=Latency(window_seconds=WINDOW_SECONDS, routes=[_route(r) for r in routes]),
        is_ingestion_leader=is_ingestion_leader,
        requests_shed=requests_shed or RequestsShed(),
    )


def _route(latency: RouteLatency) -> RouteLatencyResponse:
    return RouteLatencyResponse(
        method=latency.method,
        route=latency.route,
        since_start=latency.since_start,
        last_minute=latency.last_minute,
    )
