"""The fields of the public contract the dashboard reads, declared once: a contract test checks the API has them."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from market_data_client.contract import (
    CandleOut,
    CandlesResponse,
    Counts,
    IngestionStats,
    IngestionStatusResponse,
    Latency,
    LatencySummary,
    MetricsResponse,
    RouteLatencyResponse,
    SymbolsResponse,
)

# Field names by the Struct that declares them (IngestionStats also has IngestionStatusResponse's).
FIELDS_READ: Mapping[type[msgspec.Struct], tuple[str, ...]] = {
    IngestionStatusResponse: (
        *("status", "heartbeat_age_seconds", "stale_after_seconds", "seconds_since_last_trade", "interval_seconds"),
        *("figures_source", "figures_read_at", "db_healthy", "db_latency_ms", "db_error"),
    ),
    IngestionStats: (
        *("batches_committed", "trades_ingested", "last_batch_duration_ms", "failed_attempts", "last_error"),
        "last_error_at",
    ),
    MetricsResponse: (
        *("ingestion", "counts", "latency", "uptime_seconds", "started_at", "instance_id", "version"),
        "is_ingestion_leader",
    ),
    Counts: ("trades", "candles"),
    Latency: ("routes",),
    RouteLatencyResponse: ("method", "route", "since_start", "last_minute"),
    LatencySummary: ("count", "errors_4xx", "errors_5xx", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"),
    SymbolsResponse: ("symbols",),
    CandlesResponse: ("candles",),
    CandleOut: ("bucket_start", "open", "high", "low", "close"),
}
