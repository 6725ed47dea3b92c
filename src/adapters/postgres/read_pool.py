"""The connections of the hot reads (/trades, /candles): psycopg's own pool of autocommit connections.

A checkout from SQLAlchemy's pool cost about 100 µs of this process's CPU (a
Connection object, events, a greenlet switch each way, the isolation level set
and reset), as much as the read itself; a getconn/putconn pair of psycopg_pool
costs 7 µs, and nothing else is added: no `check` callback (a ping per checkout,
a round trip), no `reset` callback (20 µs). A connection that died with a
restart of the server is not pinged out beforehand: a read on it fails at once,
and the read moves on to the next connection (reads are safe to repeat).

The pool is fixed in size: connections opened and closed again under load
(SQLAlchemy's overflow) cost a backend fork each, and on two cores a few busy
connections answer more reads than many. It opens on the first read, so a
process that never serves one (`mdp ingest`, the operations loop) holds no
connection for it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.url import TCP_KEEPALIVE, libpq_url

log = logging.getLogger("mdp.db")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReadPoolSettings:
    size: int = 4
    timeout_seconds: float = 5.0
    connect_timeout_seconds: int = 3
    statement_timeout_ms: int = 15_000


class ReadPool:
    """A fixed number of autocommit connections; `run(read)` lends one for the length of a read."""

    def __init__(self, url: str, settings: ReadPoolSettings, application_name: str = "mdp reads") -> None:
        self._shut = False
        # After a restart of the server every pooled connection is dead, and each fails at once: a read that
        # finds its connection closed moves on to the next (the pool replaces the dead one in the background).
        self._attempts = settings.size + 1
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            libpq_url(url),
            min_size=settings.size,
            max_size=settings.size,
            timeout=settings.timeout_seconds,
            open=False,
            name="mdp-reads",
            kwargs={
                "autocommit": True,
                "connect_timeout": settings.connect_timeout_seconds,
                "application_name": application_name,
                "options": f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=UTC",
                **TCP_KEEPALIVE,
            },
        )

    async def run(self, read: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        """`read` on a pooled connection; on another when the server had closed this one."""
        if self._pool.closed and not self._shut:
            # Filled in the background: the first read waits for the first connection, not for all of them.
            await self._pool.open(wait=False)
        for attempt in range(1, self._attempts + 1):
            conn = await self._pool.getconn()
            try:
                return await read(conn)
            except psycopg.OperationalError:
                if not conn.closed or attempt == self._attempts:
                    raise
                log.info("a pooled connection was closed by the server; reading on another")
            finally:
                await self._pool.putconn(conn)  # a closed one is dropped and replaced
        raise AssertionError("unreachable")

    async def close(self) -> None:
        self._shut = True
        if not self._pool.closed:
            await self._pool.close(timeout=1.0)


async def read_pool_resource(url: str, settings: ReadPoolSettings, application_name: str) -> AsyncIterator[ReadPool]:
    """Container resource: the pool closes at shutdown (it opens on the first read)."""
    pool = ReadPool(url, settings, application_name)
    try:
        yield pool
    finally:
        await pool.close()
