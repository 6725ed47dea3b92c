"""The candle change log in PostgreSQL: reading it, and a dedicated LISTEN connection told of each commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.driver import driver_of
from adapters.postgres.url import TCP_KEEPALIVE, libpq_url
from domain.changes import CandleChange, ChangeFilter
from domain.series import Bar

CHANNEL = "candle_changes"
_COLUMNS = (
    "seq, symbol, interval, bucket_start, bucket_end, open, high, low, close, volume, trade_count, notional, vwap, "
    "complete"
)
_SINCE = f"SELECT {_COLUMNS} FROM candle_changes WHERE seq > %s ORDER BY seq LIMIT %s"
_SINCE_WANTED = (
    f"SELECT {_COLUMNS} FROM candle_changes WHERE seq > %s AND interval = %s AND symbol = ANY(%s) ORDER BY seq LIMIT %s"
)


def _change(row: tuple[Any, ...]) -> CandleChange:
    seq, symbol, interval, start, end, o, h, low, c, volume, count, notional, vwap, complete = row
    bar = Bar(start, end, o, h, low, c, volume, count, notional, vwap) if count else None
    return CandleChange(seq, symbol, interval, start, end, bar, complete)


class PostgresChangeLog:
    """The feed's reads on a connection of its own (one at a time, never cancelled by a client going away);
    the streams' resumes on the service's connection pool."""

    def __init__(self, url: str, engine: AsyncEngine, connect_timeout: int = 3) -> None:
        self._url = make_conninfo(libpq_url(url), **TCP_KEEPALIVE)
        self._engine = engine
        self._timeout = connect_timeout
        self._conn: AsyncConnection[Any] | None = None

    async def _connection(self) -> AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=self._timeout,
                application_name="mdp-feed",
            )
        return self._conn

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            conn = await self._connection()
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchall()
        except psycopg.OperationalError:
            await self.close()
            raise

    async def position(self) -> int:
        rows = await self._rows("SELECT coalesce(max(seq), 0) FROM candle_changes", ())
        return int(rows[0][0])

    async def since(self, after: int, limit: int) -> list[CandleChange]:
        return [_change(row) for row in await self._rows(_SINCE, (after, limit))]

    async def history(self, after: int, limit: int, wanted: ChangeFilter) -> list[CandleChange]:
        params = (after, wanted.interval, sorted(wanted.symbols), limit)
        return [_change(row) for row in await self._pooled(_SINCE_WANTED, params)]

    async def horizon(self) -> int:
        rows = await self._pooled("SELECT through FROM candle_change_horizon", ())
        return int(rows[0][0]) if rows else 0

    async def _pooled(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self._engine.connect() as connection:
            raw = await driver_of(connection)
            cursor = await raw.execute(sql, params, prepare=True)
            rows = await cursor.fetchall()
            await connection.rollback()
            return rows

    async def keep_for(self, seconds: int) -> None:
        """How long changes are kept for resuming (the leader prunes older ones once a minute)."""
        await self._rows(
            "UPDATE candle_change_horizon SET retention = make_interval(secs => %s) RETURNING 1", (seconds,)
        )

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


class _Listening:
    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def wait(self, timeout: float) -> None:
        # notifies(timeout=...) returns at the timeout, or yields a notice; a dropped connection raises.
        async for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            pass
        if self._conn.closed or self._conn.broken:
            raise psycopg.OperationalError("the LISTEN connection was closed")
        # A cheap round trip: a server that went away shows here, not after the next poll.
        await self._conn.execute("SELECT 1")


class PostgresChangeNotices:
    """One dedicated connection per process that LISTENs for committed candle changes."""

    def __init__(self, url: str, connect_timeout: int = 3) -> None:
        self._url = make_conninfo(libpq_url(url), **TCP_KEEPALIVE)
        self._timeout = connect_timeout

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[_Listening]:
        conn = await asyncio.wait_for(
            AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=self._timeout,
                application_name="mdp-listen",
            ),
            self._timeout + 1,
        )
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            yield _Listening(conn)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
