"""Reads for the market data API: trade pages, candles computed in PostgreSQL, the stored-candle cache."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.postgres.tables import candles, trade_revisions, trades
from application.ports import StoredCandle
from domain.candles import Candle, Interval, TradeKey
from domain.ranges import TimeRange
from domain.trades import Trade

# Bucket starts are computed as in the domain: date_bin from the Unix epoch, in
# absolute time, so no session time zone can shift them. Open and close are the
# first and last price by (ts, id); the sum of price * volume is exact NUMERIC.
# Each span is a run of whole buckets; the lateral join reads it through the
# (symbol, ts, id) primary key, pruned to the partitions it touches. OFFSET 0
# keeps the planner from flattening it into one scan of every partition.
AGGREGATE_CANDLES = text(
    """
    SELECT bucket_start, prices[1] AS open, high, low, prices[cardinality(prices)] AS close,
           volume, trade_count, notional
    FROM (
        SELECT date_bin(:step, t.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
               array_agg(t.price ORDER BY t.ts, t.id) AS prices,
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
    ORDER BY bucket_start
    """
).bindparams(
    bindparam("los", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("his", type_=ARRAY(TIMESTAMP(timezone=True))),
)


async def page_trades(
    session: AsyncSession, symbol: str, window: TimeRange, after: TradeKey | None, limit: int
) -> list[Trade]:
    query = select(trades).where(trades.c.symbol == symbol, trades.c.ts >= window.start, trades.c.ts < window.end)
    if after is not None:
        # The whole key in the row comparison lets the primary key index seek straight to it.
        query = query.where(
            tuple_(trades.c.symbol, trades.c.ts, trades.c.id)
            > tuple_(literal(symbol), literal(after[0]), literal(after[1]))
        )
    query = query.order_by(trades.c.ts, trades.c.id).limit(limit)
    result = await session.execute(query)
    return [Trade(r.symbol, r.ts, r.price, r.volume, r.id) for r in result]


async def trade_revision(session: AsyncSession, symbol: str) -> int | None:
    query = select(trade_revisions.c.revision).where(trade_revisions.c.symbol == symbol)
    return (await session.execute(query)).scalar_one_or_none()


async def aggregate_candles(
    session: AsyncSession, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
) -> list[Candle]:
    if not spans:
        return []
    params = {
        "step": interval.length,
        "symbol": symbol,
        "los": [lo for lo, _ in spans],
        "his": [hi for _, hi in spans],
    }
    result = await session.execute(AGGREGATE_CANDLES, params)
    return [
        Candle(symbol, interval, r.bucket_start, r.open, r.high, r.low, r.close, r.volume, r.trade_count, r.notional)
        for r in result
    ]


class PostgresCandleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stored(self, symbol: str, interval: Interval, first: datetime, end: datetime) -> list[StoredCandle]:
        c = candles.c
        query = (
            select(candles)
            .where(c.symbol == symbol, c.interval == interval.name, c.bucket_start >= first, c.bucket_start < end)
            .order_by(c.bucket_start)
        )
        result = await self._session.execute(query)
        return [StoredCandle(_candle(r, interval), r.updated_at) for r in result]

    async def save(self, symbol: str, revision: int, batch: Sequence[Candle], computed_at: datetime) -> bool:
        # FOR SHARE: concurrent readers store side by side; a trade writer (which
        # bumps the revision) waits for us and then deletes what it invalidates.
        lock = select(trade_revisions.c.revision).where(trade_revisions.c.symbol == symbol).with_for_update(read=True)
        if (await self._session.execute(lock)).scalar_one_or_none() != revision:
            return False
        # Sorted by key: concurrent upserts of overlapping ranges lock rows in one order, so never deadlock.
        rows = [_row(c, computed_at) for c in sorted(batch, key=lambda c: (c.symbol, c.interval.name, c.start))]
        statement = pg_insert(candles)
        keys = {"symbol", "interval", "bucket_start"}
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[candles.c.symbol, candles.c.interval, candles.c.bucket_start],
                set_={k: statement.excluded[k] for k in rows[0] if k not in keys},
            ),
            rows,
        )
        return True


def _candle(r: Any, interval: Interval) -> Candle:
    return Candle(
        r.symbol, interval, r.bucket_start, r.open, r.high, r.low, r.close, r.volume, r.trade_count, r.notional
    )


def _row(c: Candle, computed_at: datetime) -> dict[str, Any]:
    return {
        "symbol": c.symbol,
        "interval": c.interval.name,
        "bucket_start": c.start,
        "bucket_end": c.end,
        "open": c.open,
        "high": c.high,
        "low": c.low,
        "close": c.close,
        "volume": c.volume,
        "trade_count": c.trade_count,
        "notional": c.notional,
        "updated_at": computed_at,
    }
