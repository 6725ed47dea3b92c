"""GET /candles: exact OHLCV of one symbol per epoch-aligned bucket, with how fresh the data is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, cast

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.candles import CandleQuery, CandleSeries, Fill, GetCandles
from domain.candles import INTERVAL_NAMES, MAX_CANDLES, Interval
from domain.errors import InvalidValue
from domain.freshness import Freshness
from domain.local_days import parse_zone
from domain.series import Bar
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.http.openapi import problem_responses
from entrypoints.http.params import TIME_FORMAT, parse_window
from market_data_client.contract import CandleOut, CandlesResponse, FreshnessOut


def candle_outs(bars: Sequence[Bar], watermark: datetime | None) -> list[CandleOut]:
    """The candles as the response carries them; `complete` by the watermark.

    Comprehensions with tuple unpacking: this runs for every candle of every answer.
    """
    if watermark is None:
        return [CandleOut(s, e, o, h, lo, c, v, n, w, False, f) for s, e, o, h, lo, c, v, n, _, w, f in bars]
    return [CandleOut(s, e, o, h, lo, c, v, n, w, e <= watermark, f) for s, e, o, h, lo, c, v, n, _, w, f in bars]


class SharedEncoding:
    """The candles of the last answer, encoded once for every answer with the same candles.

    Identical reads waiting for a connection share one round trip (adapters/postgres/coalesced_reads.py),
    and clients polling a series get the same candles read after read: the requests differ in `as_of`
    and freshness, while the candles, most of the body, would be built and encoded again for each. The
    encoding is kept for the last list of bars, and reused while the bars are equal (the very list, or an
    equal one from the next read: the columns' fixed scales make equal values print alike) and every
    candle is as `complete` as it was (the watermark moved, but past the end of all of them).
    """

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._bars: Sequence[Bar] = ()
        self._watermark: datetime | None = None
        self._encoded = msgspec.Raw(b"[]")

    def __call__(self, bars: Sequence[Bar], watermark: datetime | None) -> msgspec.Raw:
        if not (self._same_bars(bars) and self._same_completeness(bars, watermark)):
            self._encoded = msgspec.Raw(self._encoder.encode(candle_outs(bars, watermark)))
            self._bars = bars
        self._watermark = watermark
        return self._encoded

    def _same_bars(self, bars: Sequence[Bar]) -> bool:
        return bars is self._bars or (len(bars) == len(self._bars) and bars == self._bars)

    def _same_completeness(self, bars: Sequence[Bar], watermark: datetime | None) -> bool:
        if watermark == self._watermark or not bars:
            return True
        if watermark is None or self._watermark is None:
            return False
        last_end = max(bar.end for bar in bars)
        return last_end <= watermark and last_end <= self._watermark


encoded_candles = SharedEncoding()


def freshness_out(f: Freshness) -> FreshnessOut:
    return FreshnessOut(
        str(f.status),
        f.heartbeat_at,
        f.heartbeat_age_seconds,
        f.stale_after_seconds,
        f.last_trade_at,
        f.seconds_since_last_trade,
    )


def candles_response(series: CandleSeries, fill: Fill) -> CandlesResponse:
    watermark = series.watermark
    return CandlesResponse(
        symbol=series.symbol,
        interval=series.interval.name,
        start=series.first,
        end=series.end,
        as_of=series.as_of,
        # Spliced into the body as it is: the same bytes msgspec writes for list[CandleOut].
        candles=cast(list[CandleOut], encoded_candles(series.bars, watermark)),
        freshness=freshness_out(series.freshness),
        watermark=watermark,
        tz=str(series.zone) if series.zone else "UTC",
        fill=str(fill),
    )


@get(
    "/candles",
    summary="Exact OHLCV candles of one symbol, by bucket start",
    description=(
        "Buckets are [bucket_start, bucket_start + interval), aligned to the Unix epoch in UTC (or, for 1d with "
        "`tz`, to local midnight in that zone). Selected are the buckets whose start lies in [floor(start), end); "
        "each candle aggregates ALL trades of its bucket. Buckets without trades are omitted unless "
        f"fill=previous. At most {MAX_CANDLES} buckets per request. Prices and VWAP are decimal strings. "
        "`complete` is decided by the ingestion watermark, not the clock."
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
    tz: Annotated[
        str | None,
        Parameter(
            description="With interval=1d only: an IANA zone (America/New_York, Asia/Kolkata) whose local midnight "
            "starts each daily bucket; a DST day is 23 or 25 hours. Default: UTC days"
        ),
    ] = None,
    fill: Annotated[
        str,
        Parameter(
            description="none (default): empty buckets are omitted. previous: every empty bucket between the first "
            "and last candle is returned with the previous close, volume 0, vwap null, filled true",
            schema_extra={"enum": [f.value for f in Fill]},
        ),
    ] = "none",
) -> CandlesResponse:
    gaps = parse_fill(fill)
    zone = parse_zone(tz) if tz is not None else None
    query = CandleQuery(symbol, Interval.parse(interval), parse_window(start, end), zone, gaps)
    return candles_response(await get_candles_use_case(query), gaps)


def parse_fill(raw: str) -> Fill:
    try:
        return Fill(raw)
    except ValueError:
        raise InvalidValue("fill", raw, f"one of {', '.join(f.value for f in Fill)}") from None
