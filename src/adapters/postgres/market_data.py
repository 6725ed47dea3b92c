"""Reads for the market data API: trade pages, stored candles, and candles computed from the trades."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.postgres.tables import VWAP
from domain.candles import Candle, Interval
from domain.series import Bar

# Bucket starts are computed as in the domain: date_bin from the Unix epoch, in
# absolute time, so no session time zone can shift them. Open and close are the
# first and last price by (ts, id); the sum of price * volume is exact NUMERIC.
# Each span is a run of whole buckets; the lateral join reads it through the
# (symbol, ts, id) primary key, pruned to the partitions it touches. OFFSET 0
# keeps the planner from flattening it into one scan of every partition.
BAR_COLUMNS = "bucket_start, bucket_end, open, high, low, close, volume, trade_count, notional, vwap, false AS filled"
"""The fields of `Bar`, in order."""
_AGGREGATE = f"""
    SELECT bucket_start, bucket_start + :step AS bucket_end,
           prices[1] AS open, high, low, prices[cardinality(prices)] AS close,
           volume, trade_count, notional, {VWAP} AS vwap,
           open_ts, ids[1] AS open_id, close_ts, ids[cardinality(ids)] AS close_id
    FROM (
        SELECT date_bin(:step, t.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
               array_agg(t.price ORDER BY t.ts, t.id) AS prices, array_agg(t.id ORDER BY t.ts, t.id) AS ids,
               min(t.ts) AS open_ts, max(t.ts) AS close_ts,
               max(t.price) AS high, min(t.price) AS low,
               sum(t.volume)::bigint AS volume, count(*) AS trade_count, sum(t.price * t.volume) AS notional
        FROM unnest(:los, :his) AS span(lo, hi)
        CROSS JOIN LATERAL (
            SELECT ts, id, price, volume FROM trades
            WHERE symbol = :symbol AND ts >= span.lo AND ts < span.hi
            OFFSET 0
        ) AS t
        GROUP BY 1
    ) AS buckets
"""
_SPANS = (
    bindparam("los", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("his", type_=ARRAY(TIMESTAMP(timezone=True))),
)
AGGREGATE_CANDLES = text(_AGGREGATE + " ORDER BY bucket_start").bindparams(*_SPANS)
# The seed's flow, for buckets that have trades but no stored candle: compute them
# from the trades, store them unless a writer stored one meanwhile (its candle is
# then the one the trigger keeps exact), and answer with what was computed.
REPAIR_CANDLES = text(
    f"""
    WITH computed AS ({_AGGREGATE}),
    stored AS (
        INSERT INTO candles AS c (symbol, "interval", bucket_start, bucket_end, open, high, low, close, volume,
                                  trade_count, notional, open_ts, open_id, close_ts, close_id)
        SELECT :symbol, :interval, bucket_start, bucket_end, open, high, low, close, volume,
               trade_count, notional, open_ts, open_id, close_ts, close_id
        FROM computed ORDER BY bucket_start
        ON CONFLICT (symbol, "interval", bucket_start) DO NOTHING
    )
    SELECT {BAR_COLUMNS} FROM computed ORDER BY bucket_start
    """
).bindparams(*_SPANS)


async def aggregate_candles(
    session: AsyncSession, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
) -> list[Candle]:
    if not spans:
        return []
    result = await session.execute(AGGREGATE_CANDLES, _span_params(symbol, interval, spans))
    return [
        Candle(
            symbol,
            interval,
            r.bucket_start,
            r.open,
            r.high,
            r.low,
            r.close,
            r.volume,
            r.trade_count,
            r.notional,
            (r.open_ts, r.open_id),
            (r.close_ts, r.close_id),
        )
        for r in result
    ]


class PostgresCandleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def repair(self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]) -> list[Bar]:
        if not spans:
            return []
        params = {"interval": interval.name, **_span_params(symbol, interval, spans)}
        result = await self._session.execute(REPAIR_CANDLES, params)
        return [Bar(*row) for row in result.tuples()]


def _span_params(symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]) -> dict[str, Any]:
    return {
        "step": interval.length,
        "symbol": symbol,
        "los": [lo for lo, _ in spans],
        "his": [hi for _, hi in spans],
    }
