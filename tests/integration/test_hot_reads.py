"""The read pool and the coalescing of identical reads, against a real PostgreSQL.

Identical reads share a round trip only while it has not been sent: every answer
must be at least as new as its request. A server restart must not cost a read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import PoolTimeout

from adapters.postgres.coalesced_reads import CoalescedReads
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.market_reads import PostgresMarketReads
from adapters.postgres.read_pool import ReadPool, ReadPoolSettings
from adapters.postgres.url import libpq_url
from domain.ranges import TimeRange
from tests.integration.market_data_support import insert_trades

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
WINDOW = TimeRange(T0, T0 + timedelta(hours=1))


@pytest.fixture
async def one_connection(clean_db: str) -> AsyncIterator[ReadPool]:
    """A pool of one connection: a read held on it makes every other read wait for it, unsent."""
    pool = ReadPool(clean_db, ReadPoolSettings(size=1))
    try:
        yield pool
    finally:
        await pool.close()


async def server_time(conn: AsyncConnection[Any], statement: str = "SELECT clock_timestamp()") -> datetime:
    cursor = await conn.execute(statement)
    row = await cursor.fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


async def hold(pool: ReadPool, seconds: float) -> asyncio.Task[None]:
    """Keep the pool's only connection busy for `seconds`; returns once the hold is on the wire."""
    started = asyncio.Event()

    async def sleep_on_it(conn: AsyncConnection[Any]) -> None:
        started.set()
        await conn.execute("SELECT pg_sleep(%s)", (seconds,))

    task = asyncio.create_task(pool.run(sleep_on_it))
    await started.wait()
    return task


async def test_identical_reads_waiting_for_a_connection_share_one_round_trip(one_connection: ReadPool) -> None:
    reads = CoalescedReads(one_connection)
    holder = await hold(one_connection, 0.3)
    answers = await asyncio.gather(*(reads.run("now", server_time) for _ in range(5)))
    await holder
    assert len(set(answers)) == 1
    assert reads.joined == 4


async def test_reads_of_different_keys_are_not_shared(one_connection: ReadPool) -> None:
    reads = CoalescedReads(one_connection)
    holder = await hold(one_connection, 0.2)
    answers = await asyncio.gather(reads.run("a", server_time), reads.run("b", server_time))
    await holder
    assert answers[0] != answers[1]
    assert reads.joined == 0


async def test_a_read_already_sent_is_never_joined(clean_db: str) -> None:
    pool = ReadPool(clean_db, ReadPoolSettings(size=2))
    reads = CoalescedReads(pool)

    async def slow_time(conn: AsyncConnection[Any]) -> datetime:
        return await server_time(conn, "SELECT clock_timestamp(), pg_sleep(0.3)")

    try:
        first = asyncio.create_task(reads.run("now", slow_time))
        await asyncio.sleep(0.1)  # the first read is on the wire by now
        second = await reads.run("now", slow_time)
        assert second - await first >= timedelta(seconds=0.05)
        assert reads.joined == 0
    finally:
        await pool.close()


async def test_a_joined_read_sees_a_trade_committed_after_the_first_request_arrived(
    one_connection: ReadPool, clean_db: str
) -> None:
    """The point of joining only unsent reads: each answer is at least as new as its own request."""
    reads = PostgresMarketReads(one_connection)
    holder = await hold(one_connection, 0.3)
    early = asyncio.create_task(reads.trade_page("AAPL", WINDOW, None, 10))
    await asyncio.sleep(0.05)
    stored = await asyncio.to_thread(insert_trades, clean_db, "AAPL", [(T0 + timedelta(minutes=1), "101.25", 7)])
    late = asyncio.create_task(reads.trade_page("AAPL", WINDOW, None, 10))
    pages = await asyncio.gather(early, late)
    await holder
    for page in pages:
        assert [(t.id, t.price) for t in page] == [(stored[0].id, stored[0].price)]


async def test_when_the_read_joined_is_cancelled_the_joiner_reads_for_itself(one_connection: ReadPool) -> None:
    reads = CoalescedReads(one_connection)
    holder = await hold(one_connection, 0.2)
    leader = asyncio.create_task(reads.run("now", server_time))
    await asyncio.sleep(0)  # the leader is waiting for the connection, unsent
    joiner = asyncio.create_task(reads.run("now", server_time))
    await asyncio.sleep(0.05)
    leader.cancel()
    answer = await joiner
    await holder
    assert isinstance(answer, datetime)
    assert leader.cancelled()


async def test_a_failed_read_fails_every_request_that_joined_it(one_connection: ReadPool) -> None:
    reads = CoalescedReads(one_connection)

    async def broken(conn: AsyncConnection[Any]) -> None:
        await conn.execute("SELECT no_such_column FROM trades")

    holder = await hold(one_connection, 0.2)
    results = await asyncio.gather(*(reads.run("broken", broken) for _ in range(3)), return_exceptions=True)
    await holder
    assert all(isinstance(r, psycopg.errors.UndefinedColumn) for r in results)
    # The connection is still usable afterwards: autocommit left no aborted transaction behind.
    assert isinstance(await reads.run("now", server_time), datetime)


async def test_a_stopped_server_fails_reads_at_once_and_a_started_one_serves_them_again(
    restartable_postgres: EmbeddedPostgres,
) -> None:
    """Not the pool's wait for its backoff: a refusal is the answer while stopped, a fresh pool once back."""
    pool = ReadPool(restartable_postgres.url, ReadPoolSettings(size=2, timeout_seconds=30))
    try:
        await pool.run(server_time)
        restartable_postgres.stop()
        try:
            for _ in range(3):  # again and again, whatever the pool's reconnection backoff has reached
                with pytest.raises(psycopg.OperationalError) as refused:
                    await pool.run(server_time)
                assert not isinstance(refused.value, PoolTimeout)
        finally:
            restartable_postgres.start()
        assert isinstance(await pool.run(server_time), datetime)
    finally:
        await pool.close()


async def test_reads_go_on_after_the_server_restarts(restartable_postgres: EmbeddedPostgres) -> None:
    """Every pooled connection dies with the server; the next read must not fail for it."""
    pool = ReadPool(restartable_postgres.url, ReadPoolSettings(size=3))
    try:
        await asyncio.gather(*(pool.run(server_time) for _ in range(6)))  # all three connections open
        restartable_postgres.stop()
        restartable_postgres.start()
        assert isinstance(await pool.run(server_time), datetime)
        with psycopg.connect(libpq_url(restartable_postgres.url), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        await pool.close()
