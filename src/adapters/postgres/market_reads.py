"""The hot reads of /candles and /trades: one round trip each, straight on the driver, outside any transaction.

Every round trip to the server costs this process more than PostgreSQL takes to
answer these reads (a send, a wait on the loop, a receive). A unit of work spent
six: the pool's ping, BEGIN, the watermark, the heartbeat, the candles, COMMIT.
Here a read borrows an autocommit connection from the read pool (read_pool.py)
and sends its statements as one pipeline:
PostgreSQL runs them in order, each in a snapshot of its own, so the watermark is
still read before the candles, which is all the finality rule needs. Rows go
straight into named tuples: the schema checked them when they were written.
Identical reads still waiting to be sent share one round trip (coalesced_reads.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import RowMaker, args_row

from adapters.postgres.coalesced_reads import CoalescedReads
from adapters.postgres.market_data import BAR_COLUMNS
from adapters.postgres.read_pool import ReadPool
from adapters.postgres.repositories import HEARTBEAT_SOURCE, READ_HEARTBEAT, READ_WATERMARK
from application.ports import StoredCandles
from domain.candles import Interval
from domain.heartbeat import Heartbeat
from domain.ranges import TimeRange
from domain.series import Bar
from domain.trades import StoredTrade, TradeKey

STORED_BARS = f"""
    SELECT {BAR_COLUMNS} FROM candles
    WHERE symbol = %s AND "interval" = %s AND bucket_start >= %s AND bucket_start < %s
    ORDER BY bucket_start
"""
_TRADES = "SELECT symbol, ts, price, volume, id FROM trades WHERE symbol = %s AND ts >= %s AND ts < %s"
FIRST_PAGE = _TRADES + " ORDER BY ts, id LIMIT %s"
# The whole key in the row comparison lets the primary key index seek straight to the cursor.
NEXT_PAGE = _TRADES + " AND (symbol, ts, id) > (%s, %s, %s) ORDER BY ts, id LIMIT %s"


class PostgresMarketReads:
    def __init__(self, pool: ReadPool) -> None:
        self._reads = CoalescedReads(pool)

    async def stored_candles(self, symbol: str, interval: Interval, first: datetime, end: datetime) -> StoredCandles:
        async def read(conn: AsyncConnection[Any]) -> StoredCandles:
            watermark = conn.cursor()
            heartbeat = conn.cursor(row_factory=args_row(Heartbeat))
            bars = conn.cursor(row_factory=_bars)
            async with conn.pipeline():
                await watermark.execute(READ_WATERMARK, (HEARTBEAT_SOURCE,), prepare=True)
                await heartbeat.execute(READ_HEARTBEAT, (HEARTBEAT_SOURCE,), prepare=True)
                await bars.execute(STORED_BARS, (symbol, interval.name, first, end), prepare=True)
            mark = await watermark.fetchone()
            return StoredCandles(mark[0] if mark else None, await heartbeat.fetchone(), await bars.fetchall())

        return await self._reads.run(("candles", symbol, interval, first, end), read)

    async def trade_page(self, symbol: str, window: TimeRange, after: TradeKey | None, limit: int) -> list[StoredTrade]:
        async def read(conn: AsyncConnection[Any]) -> list[StoredTrade]:
            cursor = conn.cursor(row_factory=_stored_trades)
            if after is None:
                await cursor.execute(FIRST_PAGE, (symbol, window.start, window.end, limit), prepare=True)
            else:
                params = (symbol, window.start, window.end, symbol, after[0], after[1], limit)
                await cursor.execute(NEXT_PAGE, params, prepare=True)
            return await cursor.fetchall()

        return await self._reads.run(("trades", symbol, window.start, window.end, after, limit), read)


def _bars(cursor: AsyncCursor[Any]) -> RowMaker[Bar]:
    return Bar._make


def _stored_trades(cursor: AsyncCursor[Any]) -> RowMaker[StoredTrade]:
    return StoredTrade._make
