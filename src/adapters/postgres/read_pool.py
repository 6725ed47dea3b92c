"""The connections of the hot reads (/trades, /candles): psycopg's own pool of autocommit connections.

A checkout from SQLAlchemy's pool cost about 100 µs of this process's CPU (a
Connection object, events, a greenlet switch each way, the isolation level set
and reset), as much as the read itself; a getconn/putconn pair of psycopg_pool
costs 7 µs, and nothing else is added: no `check` callback (a ping per checkout,
a round trip), no `reset` callback (20 µs).

The pool is fixed in size: connections opened and closed again under load
(SQLAlchemy's overflow) cost a backend fork each, and on two cores a few busy
connections answer more reads than many. It opens on the first read, so a
process that never serves one (`mdp ingest`, the operations loop) holds no
connection for it.

Outages. psycopg_pool reconnects in the background with a growing backoff, and a
read waits for it up to the pool timeout: a stopped database would be told as
"too slow" at the request deadline, and a database back from an outage would
wait for the next attempt of that backoff. So once the server has closed a
connection (stopped, killed or restarted), reads ask it directly first, with one
connection attempt shared by the reads that arrive meanwhile (SingleFlight): a
refusal fails the read at once (503 "the database is unavailable"); an answer
replaces the pool by a fresh one, which connects at once, and every dead
connection of the old one goes with it. No connection is pinged before use: a
read on one the server closed fails at once and is read again (reads are safe
to repeat).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.url import libpq_url, pooled_connection_options
from application.single_flight import SingleFlight

log = logging.getLogger("mdp.db")
T = TypeVar("T")

ATTEMPTS = 2
"""A read that found its connection closed is read once more, after the server has been asked directly."""


@dataclass(frozen=True, slots=True)
class ReadPoolSettings:
    size: int = 4
    timeout_seconds: float = 5.0
    connect_timeout_seconds: int = 3
    statement_timeout_ms: int = 15_000


class ReadPool:
    """A fixed number of autocommit connections; `run(read)` lends one for the length of a read."""

    def __init__(self, url: str, settings: ReadPoolSettings, application_name: str = "mdp reads") -> None:
        self._settings = settings
        self._conninfo = libpq_url(url)
        self._connect_options: dict[str, Any] = {
            "autocommit": True,
            **pooled_connection_options(
                settings.connect_timeout_seconds, settings.statement_timeout_ms, application_name
            ),
        }
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._shut = False
        self._server_lost = True
        """The server closed a connection, or none was ever opened: ask it directly before waiting on the pool."""
        self._asks = SingleFlight(self._ask_server, abandon_after=2.0 * settings.connect_timeout_seconds)
        self._closing: set[asyncio.Task[None]] = set()

    async def run(self, read: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        """`read` on a pooled connection; read again when the server had closed that one."""
        for attempt in range(1, ATTEMPTS + 1):
            if self._server_lost or self._pool is None:
                await self._asks(self._settings.connect_timeout_seconds)
            pool = self._pool
            assert pool is not None
            conn = await pool.getconn()
            try:
                return await read(conn)
            except psycopg.OperationalError:
                if not conn.closed or attempt == ATTEMPTS:
                    raise
                if pool is self._pool:  # not one of a pool already replaced
                    self._server_lost = True
                log.info("a pooled connection was closed by the server; asking it directly")
            finally:
                await pool.putconn(conn)  # a closed one is dropped; to a replaced pool, closed
        raise AssertionError("unreachable")

    async def _ask_server(self) -> None:
        """Connect once: a refusal is raised to the reads waiting; an answer brings a fresh pool."""
        if self._shut:
            raise psycopg.OperationalError("the read pool is closed")
        conn = await psycopg.AsyncConnection.connect(self._conninfo, **self._connect_options)
        await conn.close()
        if self._server_lost or self._pool is None:
            stale, self._pool = self._pool, self._new_pool()
            await self._pool.open(wait=False)
            self._server_lost = False
            if stale is not None:
                self._close_later(stale)

    def _new_pool(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        return AsyncConnectionPool(
            self._conninfo,
            min_size=self._settings.size,
            max_size=self._settings.size,
            timeout=self._settings.timeout_seconds,
            open=False,
            name="mdp-reads",
            kwargs=self._connect_options,
        )

    def _close_later(self, stale: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        # Its idle connections are dead; reads still on its others return them to a closed pool, which closes them.
        task = asyncio.create_task(stale.close(timeout=1.0))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        self._shut = True
        if self._pool is not None and not self._pool.closed:
            await self._pool.close(timeout=1.0)
        await asyncio.gather(*self._closing, return_exceptions=True)


async def read_pool_resource(url: str, settings: ReadPoolSettings, application_name: str) -> AsyncIterator[ReadPool]:
    """Container resource: the pool closes at shutdown (it opens on the first read)."""
    pool = ReadPool(url, settings, application_name)
    try:
        yield pool
    finally:
        await pool.close()
