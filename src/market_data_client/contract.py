"""The public HTTP contract: every JSON body the service answers with, as msgspec Structs.

The routes encode these and every consumer decodes into them with `msgspec.json.decode(..., type=...)`.
Only msgspec and the standard library: nothing of the service. Fields are added, never renamed or retyped.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

Price = Annotated[
    Decimal,
    msgspec.Meta(description="Exact decimal rendered as a JSON string (never a float), 2 places", examples=["189.42"]),
]
Moment = Annotated[datetime, msgspec.Meta(description="RFC 3339, UTC, with Z")]
# The 6 is domain.candles.VWAP_SCALE, written out because the contract imports nothing of the service
# (a unit test keeps the two equal).
Vwap = Annotated[
    Decimal,
    msgspec.Meta(
        description="sum(price*volume)/sum(volume), exact, rounded once half up to 6 places; a JSON string",
        examples=["189.423077"],
    ),
]


# GET /trades


class TradeOut(msgspec.Struct):
    id: int
    symbol: str
    timestamp: Moment
    price: Price
    volume: Annotated[int, msgspec.Meta(description="Shares, a positive integer")]


class TradesResponse(msgspec.Struct):
    symbol: str
    start: Moment
    end: Moment
    limit: int
    trades: list[TradeOut]
    next_cursor: Annotated[
        str | None,
        msgspec.Meta(description="Pass as `cursor` (same symbol, start, end) for the next page; null at the end"),
    ]


# GET /candles


class CandleOut(msgspec.Struct):
    bucket_start: Annotated[datetime, msgspec.Meta(description="Inclusive start of the bucket, epoch-aligned, UTC")]
    bucket_end: Annotated[datetime, msgspec.Meta(description="Exclusive end of the bucket, UTC")]
    open: Price
    high: Price
    low: Price
    close: Price
    volume: int
    trade_count: int
    vwap: Annotated[Vwap | None, msgspec.Meta(description="null on a filled candle (no trades)")]
    complete: Annotated[
        bool,
        msgspec.Meta(
            description="True once the ingestion watermark has reached bucket_end: the candle can no longer "
            "change by ingestion. False while it may (also when the bucket has closed by the clock but "
            "ingestion lags or is dead)"
        ),
    ]
    filled: Annotated[
        bool, msgspec.Meta(description="True on an empty bucket filled with the previous close (fill=previous)")
    ] = False


class FreshnessOut(msgspec.Struct):
    """The ingestion heartbeat by the same rule as /status/ingestion."""

    status: Annotated[str, msgspec.Meta(description="alive, or dead once the heartbeat is older than stale_after")]
    heartbeat_at: Moment | None
    heartbeat_age_seconds: float | None
    stale_after_seconds: float
    last_trade_at: Moment | None
    seconds_since_last_trade: float | None


class CandlesResponse(msgspec.Struct):
    symbol: str
    interval: str
    start: Annotated[datetime, msgspec.Meta(description="Effective start: the first selected bucket's start")]
    end: Annotated[datetime, msgspec.Meta(description="Effective end: the last selected bucket's end")]
    as_of: Annotated[datetime, msgspec.Meta(description="When the answer was computed")]
    candles: list[CandleOut]
    freshness: FreshnessOut
    watermark: Annotated[
        datetime | None,
        msgspec.Meta(
            description="Time up to which the source has delivered trades and they are committed; a candle is "
            "complete when its bucket_end is at or before it. null before the first batch or backfill"
        ),
    ] = None
    tz: Annotated[str, msgspec.Meta(description="Zone whose local midnight starts daily buckets; UTC by default")] = (
        "UTC"
    )
    fill: Annotated[str, msgspec.Meta(description="none, or previous: empty buckets filled")] = "none"


# GET /candles/stream: the data of its events


class CandleEvent(msgspec.Struct):
    """The data of an `event: candle`: which candle, and exactly the fields /candles returns for it."""

    symbol: str
    interval: str
    candle: CandleOut


class RemovedEvent(msgspec.Struct):
    """The data of an `event: removed`: the bucket lost its last trade (an operator's fix), so it has no candle."""

    symbol: str
    interval: str
    bucket_start: datetime
    bucket_end: datetime


# GET /symbols, /health, /health/ready


class SymbolsResponse(msgspec.Struct):
    symbols: list[str]


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct, omit_defaults=True):
    status: str
    db_healthy: bool
    db_latency_ms: float | None = None
    reason: str | None = None


# GET /status/ingestion and /metrics (JSON): both documents only ever grow


class IngestionStatusResponse(msgspec.Struct, kw_only=True):
    status: str
    heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None
    last_trade_at: datetime | None
    seconds_since_last_trade: float | None
    stale_after_seconds: float
    interval_seconds: float
    db_healthy: bool
    db_latency_ms: float | None
    db_error: str | None
    figures_source: str
    figures_read_at: datetime | None
    started_at: datetime
    uptime_seconds: float
    instance_id: str
    # Candles whose bucket ends at or before it are final (`complete`); its age is how far final data lags.
    watermark: datetime | None = None
    watermark_age_seconds: float | None = None


class IngestionStats(IngestionStatusResponse, kw_only=True):
    batches_committed: int | None
    trades_ingested: int | None
    last_batch_trades: int | None
    last_batch_duration_ms: float | None
    failed_attempts: int | None
    last_error: str | None
    last_error_at: datetime | None


class Counts(msgspec.Struct, kw_only=True):
    trades: int | None
    candles: int | None
    exact: bool
    source: str
    read_at: datetime | None


class LatencySummary(msgspec.Struct, kw_only=True):
    count: int
    errors_4xx: int
    errors_5xx: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class RouteLatencyResponse(msgspec.Struct, kw_only=True):
    method: str
    route: str
    since_start: LatencySummary
    last_minute: LatencySummary


class Latency(msgspec.Struct, kw_only=True):
    window_seconds: int
    routes: list[RouteLatencyResponse]


class RequestsShed(msgspec.Struct, kw_only=True):
    """Requests to the database-backed routes this process answered 503 instead of serving."""

    busy: int = 0
    """Refused at once because the database already had as many requests as it is allowed."""
    deadline: int = 0
    """Answered at the deadline because the database did not answer in time."""


class MetricsResponse(msgspec.Struct, kw_only=True):
    instance_id: str
    version: str
    started_at: datetime
    uptime_seconds: float
    db_healthy: bool
    db_latency_ms: float | None
    db_error: str | None
    counts: Counts
    ingestion: IngestionStats
    latency: Latency
    # Which replica answered is `instance_id`; this says whether it runs ingestion now.
    is_ingestion_leader: bool = False
    requests_shed: RequestsShed = msgspec.field(default_factory=RequestsShed)


# Every 4xx and 5xx (application/problem+json)


class InvalidParam(msgspec.Struct, omit_defaults=True):
    name: str
    reason: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details; `invalid_params` names each bad query parameter."""

    title: str
    status: int
    detail: str
    type: str = "about:blank"
    invalid_params: list[InvalidParam] = []
