"""The dashboard reads only fields of the public contract: one that disappears from the API fails here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.http_client.service_api import Fetched
from entrypoints.http.dashboard.chart import build_chart
from entrypoints.http.dashboard.reads import FIELDS_READ
from entrypoints.http.dashboard.view import build_view
from market_data_client.contract import (
    CandleOut,
    Counts,
    IngestionStats,
    IngestionStatusResponse,
    Latency,
    LatencySummary,
    MetricsResponse,
    RouteLatencyResponse,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PAIRS = sorted((kind.__name__, name, kind) for kind, names in FIELDS_READ.items() for name in names)


@pytest.mark.parametrize(("owner", "name", "kind"), PAIRS, ids=[f"{o}.{n}" for o, n, _ in PAIRS])
def test_every_field_the_dashboard_reads_is_in_the_contract(owner: str, name: str, kind: type[msgspec.Struct]) -> None:
    assert name in kind.__struct_fields__, f"the dashboard reads {owner}.{name}, which the API no longer sends"


class Recording:
    """A contract object that notes each field read from it, as (declaring Struct, field)."""

    def __init__(self, target: msgspec.Struct, seen: set[tuple[type, str]]) -> None:
        self._target, self._seen = target, seen

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        structs = [
            k for k in reversed(type(self._target).__mro__) if issubclass(k, msgspec.Struct) and k is not msgspec.Struct
        ]
        owner = next(k for k in structs if name in k.__struct_fields__)
        self._seen.add((owner, name))
        if isinstance(value, msgspec.Struct):
            return Recording(value, self._seen)
        if isinstance(value, list):
            return [Recording(v, self._seen) if isinstance(v, msgspec.Struct) else v for v in value]
        return value


def test_the_declared_fields_are_all_the_dashboard_reads() -> None:
    """So the list above stays true: building the page from full answers reads nothing it does not declare."""
    seen: set[tuple[type, str]] = set()
    status, metrics = _status(), _metrics()
    build_view(
        Fetched("/status/ingestion", Recording(status, seen)), Fetched("/metrics", Recording(metrics, seen)), [], []
    )
    # Without /status/ingestion the freshness comes from /metrics' ingestion figures.
    build_view(Fetched("/status/ingestion", error="down"), Fetched("/metrics", Recording(metrics, seen)), [], [])
    build_chart("AAPL", [Recording(_candle(), seen)], NOW - timedelta(hours=1))
    declared = {(kind, name) for kind, names in FIELDS_READ.items() for name in names}
    assert seen - declared == set()
    assert {(IngestionStats, "last_error"), (CandleOut, "high"), (LatencySummary, "p95_ms")} <= seen


def _status() -> IngestionStatusResponse:
    return IngestionStatusResponse(
        status="alive",
        heartbeat_at=NOW,
        heartbeat_age_seconds=0.4,
        last_trade_at=NOW,
        seconds_since_last_trade=0.5,
        stale_after_seconds=3.0,
        interval_seconds=1.0,
        db_healthy=False,
        db_latency_ms=None,
        db_error="no answer within 0.5s",
        figures_source="last_known",
        figures_read_at=NOW,
        started_at=NOW,
        uptime_seconds=60.0,
        instance_id="api-1",
    )


def _metrics() -> MetricsResponse:
    status = _status()
    summary = LatencySummary(count=3, errors_4xx=0, errors_5xx=1, mean_ms=1, p50_ms=1, p95_ms=2, p99_ms=2, max_ms=2)
    figures = {"batches_committed": 9, "trades_ingested": 40, "last_batch_trades": 4, "last_batch_duration_ms": 2.0}
    figures |= {"failed_attempts": 1, "last_error": "boom", "last_error_at": NOW}
    return MetricsResponse(
        instance_id="api-1",
        version="0.1.0",
        started_at=NOW,
        uptime_seconds=60.0,
        db_healthy=False,
        db_latency_ms=None,
        db_error=status.db_error,
        counts=Counts(trades=40, candles=3, exact=False, source="last_known", read_at=NOW),
        ingestion=IngestionStats(**msgspec.structs.asdict(status), **figures),
        latency=Latency(
            window_seconds=60,
            routes=[RouteLatencyResponse(method="GET", route="/candles", since_start=summary, last_minute=summary)],
        ),
        is_ingestion_leader=True,
    )


def _candle() -> CandleOut:
    start = NOW - timedelta(minutes=5)
    prices = [Decimal(p) for p in ("100.00", "101.00", "99.50", "100.50")]
    return CandleOut(start, start + timedelta(minutes=1), *prices, volume=5, trade_count=2, vwap=None, complete=True)
