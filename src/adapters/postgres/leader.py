"""Ingestion leadership: a PostgreSQL advisory lock on a dedicated connection that also carries the writes."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from datetime import date
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.postgres.url import TCP_KEEPALIVE, sync_url
from application.failures import describe
from application.ports import LeadershipLost
from domain.freshness import stale_threshold

log = logging.getLogger(__name__)

# Any constant works as long as every replica uses the same one; the migration
# lock (migrations/env.py) is 727_274_001. Advisory locks are per database.
INGESTION_LEADER_KEY = 727_274_002

TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")
HOLDS_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks"
    " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
    " AND classid = 0 AND objid::bigint = :key AND objsubid = 1"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)


def lease_ms(interval_seconds: float) -> int:
    """How long the server keeps a silent leader's session: the stale threshold, at least one second.

    A leader that has been silent that long is reported dead; its session goes with it.
    """
    return max(1000, math.ceil(stale_threshold(interval_seconds) * 1000))


def leader_engine(url: str, lease: int, application_name: str, statement_timeout_ms: int) -> AsyncEngine:
    # NullPool: the connection is ours alone and closing it really ends the
    # session, which is what releases the lock. The server-side timeouts are
    # the lease: a leader that goes silent (frozen, partitioned) loses its
    # session, and with it the lock, within `lease` milliseconds.
    options = " ".join(
        (
            f"-c statement_timeout={statement_timeout_ms}",
            f"-c idle_session_timeout={lease}",
            f"-c idle_in_transaction_session_timeout={lease}",
            f"-c tcp_user_timeout={lease}",
            "-c timezone=UTC",
        )
    )
    return create_async_engine(
        sync_url(url),
        poolclass=NullPool,
        connect_args={
            "connect_timeout": max(1, math.ceil(lease / 1000)),
            "application_name": application_name,
            "options": options,
            **TCP_KEEPALIVE,
        },
    )


class PostgresLeaderLock:
    """Leadership = holding `pg_try_advisory_lock(INGESTION_LEADER_KEY)` on one dedicated session.

    The batches are written on that same session (see `LeaderUnitOfWorkFactory`),
    so a process whose session died cannot commit anything: by the time the server
    has released the lock to another replica, the old session and any transaction
    it had open are gone.
    """

    def __init__(self, engine: AsyncEngine, key: int = INGESTION_LEADER_KEY) -> None:
        self._engine = engine
        self.key = key
        self._connection: AsyncConnection | None = None
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None or not self._leader:
            raise LeadershipLost("this process is not the ingestion leader")
        return self._connection

    async def hold(self) -> bool:
        try:
            if self._connection is None:
                self._connection = await self._engine.connect()
            query = HOLDS_LOCK if self._leader else TRY_LOCK
            held = bool((await self._connection.execute(query, {"key": self.key})).scalar_one())
            await self._connection.commit()  # a session lock outlives the transaction; the transaction must not linger
        except Exception as error:  # a broken session holds nothing: the next call starts a new one
            if self._leader:
                log.warning("lost the ingestion leader session: %s", describe(error, redact=False))
            await self._drop()
            raise
        if self._leader and not held:
            log.warning("the ingestion leader lock is no longer held by this session")
        self._leader = held
        return held

    async def release(self) -> None:
        # Unlock explicitly so a follower can take over at once (the server
        # frees a closed session's locks only when that backend has exited);
        # ending the session then rolls back anything still open.
        if self._leader and self._connection is not None:
            try:
                await self._connection.rollback()
                await self._connection.execute(UNLOCK, {"key": self.key})
                await self._connection.commit()
            except Exception:
                log.debug("unlocking failed; closing the session releases the lock", exc_info=True)
        await self._drop()

    async def close(self) -> None:
        await self.release()
        await self._engine.dispose()

    async def _drop(self) -> None:
        connection, self._connection, self._leader = self._connection, None, False
        if connection is None:
            return
        try:
            await connection.close()
        except Exception:  # already broken: the server ends the session (and the lock) on its own
            log.debug("closing the leader session failed", exc_info=True)


async def leader_lock_resource(
    url: str, interval_seconds: float, application_name: str, statement_timeout_ms: int
) -> AsyncIterator[PostgresLeaderLock]:
    """Container resource: the lock lives from startup to shutdown, then its session ends."""
    lock = PostgresLeaderLock(leader_engine(url, lease_ms(interval_seconds), application_name, statement_timeout_ms))
    try:
        yield lock
    finally:
        await lock.close()


class LeaderUnitOfWork(PostgresUnitOfWork):
    """A unit of work on the leader's own session that first checks, in its transaction, that the lock is held."""

    def __init__(self, lock: PostgresLeaderLock, known_partitions: set[date]) -> None:
        super().__init__(
            async_sessionmaker(lock.connection, expire_on_commit=False, join_transaction_mode="control_fully"),
            known_partitions,
        )
        self._lock = lock

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        held = await self.session.scalar(HOLDS_LOCK, {"key": self._lock.key})
        if not held:
            await self.__aexit__(None, None, None)
            raise LeadershipLost("the ingestion leader lock is not held by this session; nothing was written")
        return self


class LeaderUnitOfWorkFactory:
    """Units of work for ingestion: only the leader can open one, on the session that holds the lock."""

    def __init__(self, lock: PostgresLeaderLock) -> None:
        self._lock = lock
        self._known_partitions: set[date] = set()

    def __call__(self) -> LeaderUnitOfWork:
        return LeaderUnitOfWork(self._lock, self._known_partitions)
