"""The async engine and a cheap health probe; built by the container, never at import."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from adapters.postgres.url import pooled_connection_options, sync_url
from application.failures import describe
from application.ports import DatabaseHealth
from application.single_flight import SingleFlight

log = logging.getLogger("mdp.db")


@dataclass(frozen=True, slots=True)
class PoolSettings:
    size: int = 10
    max_overflow: int = 10
    timeout_seconds: float = 5.0
    connect_timeout_seconds: int = 3
    statement_timeout_ms: int = 15_000


IDLE_PING_SECONDS = 0.25
"""A pooled connection idle longer than this is pinged before use; one in steady use is not. Shorter
than any restart of PostgreSQL (stop, start, accept), so a connection that was idle across one is pinged."""


def build_engine(url: str, pool: PoolSettings, application_name: str = "mdp") -> AsyncEngine:
    engine = create_async_engine(
        sync_url(url),
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.timeout_seconds,
        pool_recycle=1800,
        # The most recently returned connection first: in steady use one stays warm (and unpinged).
        pool_use_lifo=True,
        connect_args=pooled_connection_options(
            pool.connect_timeout_seconds, pool.statement_timeout_ms, application_name
        ),
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pre-ping costs a round trip on every checkout, which on the hot reads was as much as the
    read itself. A connection that came back to the pool a moment ago was working a moment ago; one that sat
    idle (across a database restart, say) is pinged, and replaced if the ping fails, as pre-ping would."""

    @event.listens_for(engine.sync_engine, "checkin")
    def note_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        if getattr(record.driver_connection, "closed", False):
            # A read on the driver found the server gone, and SQLAlchemy never saw the error.
            raise DisconnectionError("the connection was closed under a previous user")
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool retries the checkout on a new connection
            raise DisconnectionError(f"idle connection failed its ping: {type(error).__name__}") from error


async def engine_resource(url: str, pool: PoolSettings, application_name: str) -> AsyncIterator[AsyncEngine]:
    """Container resource: the engine lives from startup to shutdown, then the pool closes."""
    engine = build_engine(url, pool, application_name)
    try:
        yield engine
    finally:
        await engine.dispose()


class PostgresHealthProbe:
    """Runs `SELECT 1` under a hard deadline: a hung server reads as unhealthy, never as a hang."""

    def __init__(self, engine: AsyncEngine, timeout_seconds: float = 1.0) -> None:
        self._engine = engine
        self._timeout = timeout_seconds
        # Concurrent checks share one round trip, and a caller never waits for
        # the driver to cancel a query on a hung server (see SingleFlight).
        self._round_trips = SingleFlight(self._round_trip, abandon_after=max(5.0, 10 * timeout_seconds))

    async def check(self) -> DatabaseHealth:
        try:
            latency_ms = await self._round_trips(self._timeout)
        except TimeoutError:
            return DatabaseHealth(False, None, f"no answer within {self._timeout:g}s")
        except Exception as error:  # any driver or pool failure means "not healthy"
            log.debug("database health check failed: %s", describe(error, redact=False))
            return DatabaseHealth(False, None, describe(error))
        return DatabaseHealth(True, latency_ms, None)

    async def _round_trip(self) -> float:
        started = time.perf_counter()
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return round((time.perf_counter() - started) * 1000, 3)
