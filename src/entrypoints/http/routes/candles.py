"""GET /candles: exact OHLCV of one symbol per epoch-aligned bucket, with how fresh the data is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.candles import CandleQuery, CandleSeries, GetCandles
from domain.candles import INTERVAL_NAMES, MAX_CANDLES, VWAP_SCALE, Candle, Interval
from domain.freshness import Freshness
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.http.errors import problem_responses
from entrypoints.http.params import TIME_FORMAT, parse_window
from entrypoints.http.routes.trades import Moment, Price

Vwap = Annotated[
    Decimal,
    msgspec.Meta(
        description=f"sum(price*volume)/sum(volume), exact, rounded once half up to {VWAP_SCALE} places; a JSON string",
        examples=["189.423077"],
    ),
]


class CandleOut(msgspec.Struct):
    bucket_start: Annotated[datetime, msgspec.Meta(description="Inclusive start of the bucket, epoch-aligned, UTC")]
    bucket_end: Annotated[datetime, msgspec.Meta(description="Exclusive end of the bucket, UTC")]
    open: Price
    high: Price
    low: Price
    close: Price
    volume: int
    trade_count: int
    vwap: Vwap
    complete: Annotated[bool, msgspec.Meta(description="False while the bucket is still open at `as_of`")]


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
    as_of: Annotated[datetime, msgspec.Meta(description="When the answer was computed; decides `complete`")]
    candles: list[CandleOut]
    freshness: FreshnessOut


def candle_out(candle: Candle, complete: bool) -> CandleOut:
    c = candle
    return CandleOut(c.start, c.end, c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.vwap, complete)


def freshness_out(f: Freshness) -> FreshnessOut:
    return FreshnessOut(
        str(f.status),
        f.heartbeat_at,
        f.heartbeat_age_seconds,
        f.stale_after_seconds,
        f.last_trade_at,
        f.seconds_since_last_trade,
    )


def candles_response(series: CandleSeries) -> CandlesResponse:
    return CandlesResponse(
        symbol=series.symbol,
        interval=series.span.interval.name,
        start=series.span.first,
        end=series.span.end,
        as_of=series.as_of,
        candles=[candle_out(c, series.is_complete(c)) for c in series.candles],
        freshness=freshness_out(series.freshness),
    )


@get(
    "/candles",
    summary="Exact OHLCV candles of one symbol, by bucket start",
    description=(
        "Buckets are [bucket_start, bucket_start + interval), aligned to the Unix epoch in UTC. Selected are the "
        "buckets whose start lies in [floor(start), end); each candle aggregates ALL trades of its bucket. Buckets "
        f"without trades are omitted. At most {MAX_CANDLES} buckets per request. Prices and VWAP are decimal strings."
    ),
    responses=problem_responses(400, 503),
)
async def get_candles(
    get_candles_use_case: NamedDependency[GetCandles],
    symbol: Annotated[str, Parameter(description="A supported symbol", schema_extra={"enum": list(SUPPORTED_SYMBOLS)})],
    interval: Annotated[
        str, Parameter(description=f"One of {', '.join(INTERVAL_NAMES)}", schema_extra={"enum": list(INTERVAL_NAMES)})
    ],
    start: Annotated[str, Parameter(description=f"Inclusive; its bucket is included whole: {TIME_FORMAT}")],
    end: Annotated[str, Parameter(description=f"Exclusive, after start: {TIME_FORMAT}")],
) -> CandlesResponse:
    query = CandleQuery(symbol, Interval.parse(interval), parse_window(start, end))
    return candles_response(await get_candles_use_case(query))
