"""Ingestion leadership against a real PostgreSQL: one holder, takeover, and no write without the lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError

from adapters.clock import SystemClock
from adapters.postgres.leader import (
    INGESTION_LEADER_KEY,
    LeaderUnitOfWorkFactory,
    PostgresLeaderLock,
    leader_engine,
    lease_ms,
)
from adapters.postgres.url import libpq_url
from application.ingestion import IngestBatch
from application.ports import LeadershipLost
from domain.trades import Trade
from tests.fakes import ListTradeSource
from tests.integration.support import async_wait_for


def _one(url: str, query: str) -> object:
    with psycopg.connect(libpq_url(url), connect_timeout=2) as conn:
        row = conn.execute(query).fetchone()
        return row[0] if row else None


def _lock(url: str, name: str, interval: float = 0.2) -> PostgresLeaderLock:
    return PostgresLeaderLock(leader_engine(url, lease_ms(interval), f"mdp-leader {name}", 5000))


@pytest.fixture
async def locks(clean_db: str) -> AsyncIterator[tuple[PostgresLeaderLock, PostgresLeaderLock]]:
    first, second = _lock(clean_db, "first"), _lock(clean_db, "second")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def _batch(n: int = 3) -> list[Trade]:
    now = datetime.now(UTC)
    return [Trade("MSFT", now - timedelta(milliseconds=n - i), Decimal("420.00"), 5) for i in range(n)]


def _terminate_leader_session(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND objid::bigint = %s AND granted",
            (INGESTION_LEADER_KEY,),
        )


async def test_exactly_one_holds_it_and_the_other_takes_over_on_release(locks: tuple[PostgresLeaderLock, ...]) -> None:
    first, second = locks
    assert await first.hold()
    assert not await second.hold()
    assert await first.hold(), "holding again confirms, it does not lose it"
    assert (first.is_leader, second.is_leader) == (True, False)
    await first.release()
    assert not first.is_leader
    assert await second.hold()
    assert not await first.hold()


async def test_a_leader_whose_session_dies_stops_and_another_takes_over(
    locks: tuple[PostgresLeaderLock, ...], clean_db: str
) -> None:
    first, second = locks
    assert await first.hold()
    _terminate_leader_session(clean_db)
    assert await second.hold()
    with pytest.raises(DBAPIError):  # its session is gone: it learns so on its next call
        await first.hold()
    assert not first.is_leader
    assert not await first.hold(), "a new session, and the lock is taken"
    ingest = IngestBatch(ListTradeSource([_batch()]), LeaderUnitOfWorkFactory(first), SystemClock())
    with pytest.raises(LeadershipLost):
        await ingest()
    assert _one(clean_db, "SELECT count(*) FROM trades") == 0


async def test_the_leader_writes_batch_and_heartbeat_on_its_own_session(
    locks: tuple[PostgresLeaderLock, ...], clean_db: str
) -> None:
    first, _ = locks
    assert await first.hold()
    ingest = IngestBatch(ListTradeSource([_batch(3), _batch(2)]), LeaderUnitOfWorkFactory(first), SystemClock())
    await ingest()
    await ingest()
    assert _one(clean_db, "SELECT count(*) FROM trades") == 5
    assert _one(clean_db, "SELECT trades_ingested FROM ingestion_heartbeat") == 5
    # The session is left idle, not inside a transaction that would hold locks.
    state = _one(clean_db, "SELECT state FROM pg_stat_activity WHERE application_name = 'mdp-leader first'")
    assert state == "idle"
    assert await first.hold()


async def test_a_batch_checks_in_its_own_transaction_that_the_lock_is_still_held(
    locks: tuple[PostgresLeaderLock, ...], clean_db: str
) -> None:
    first, _ = locks
    assert await first.hold()
    # Lose the lock while the session lives (as after a stray unlock): the fence must catch it.
    await first.connection.exec_driver_sql(f"SELECT pg_advisory_unlock({INGESTION_LEADER_KEY})")
    await first.connection.commit()
    ingest = IngestBatch(ListTradeSource([_batch()]), LeaderUnitOfWorkFactory(first), SystemClock())
    with pytest.raises(LeadershipLost):
        await ingest()
    assert _one(clean_db, "SELECT count(*) FROM trades") == 0
    assert not await first.hold()


async def test_a_silent_leader_loses_the_lock_when_its_lease_runs_out(locks: tuple[PostgresLeaderLock, ...]) -> None:
    first, second = locks
    assert await first.hold()
    # The leader says nothing; the server ends its session after the lease (1 s here).
    await async_wait_for(second.hold, timeout=15, interval=0.2)
    with pytest.raises(DBAPIError):
        await first.hold()
    assert not first.is_leader


async def test_closing_the_leader_frees_the_lock_at_once(locks: tuple[PostgresLeaderLock, ...]) -> None:
    first, second = locks
    assert await first.hold()
    await first.close()  # what shutdown does, after the runner has finished its batch
    assert await second.hold(), "no wait for the old backend to exit"
