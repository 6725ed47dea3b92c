"""Ingestion against a real PostgreSQL: atomic batches, and recovery when the server restarts."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.url import libpq_url
from application.ingestion import IngestBatch
from domain.trades import Trade
from entrypoints.container import Container, build_container, resolve, start_resources, stop_resources
from entrypoints.runner import IngestionRunner
from tests.fakes import ListTradeSource
from tests.integration.support import LiveServer, async_wait_for, make_settings, wait_for


def _one(url: str, query: str) -> object:
    with psycopg.connect(libpq_url(url), connect_timeout=2) as conn:
        row = conn.execute(query).fetchone()
        return row[0] if row else None


async def test_a_batch_that_fails_midway_stores_nothing_and_leaves_the_heartbeat(
    container: Container, clean_db: str
) -> None:
    now = datetime.now(UTC)
    good = [Trade("AAPL", now - timedelta(seconds=2 - i), Decimal("190.00"), 10) for i in range(2)]
    poisoned = [*good[:1], Trade("ZZZZ", now, Decimal("1.00"), 1), *good[1:]]  # unknown symbol: FK fails mid-insert
    uow = await resolve(container.gateways.unit_of_work)
    clock = container.core.clock()
    ingest = IngestBatch(ListTradeSource([good, poisoned]), uow, clock)
    await ingest()
    heartbeat_before = _one(clean_db, "SELECT row_to_json(h)::text FROM ingestion_heartbeat h")
    with pytest.raises(Exception, match="fk_trades_symbol_symbols"):
        await ingest()
    assert _one(clean_db, "SELECT count(*) FROM trades") == 2
    assert _one(clean_db, "SELECT row_to_json(h)::text FROM ingestion_heartbeat h") == heartbeat_before


@pytest.fixture
async def restart_container(restartable_postgres: EmbeddedPostgres) -> Container:
    url = restartable_postgres.url
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE trades, ingestion_heartbeat, row_counts")
    settings = make_settings(url, ingestion_interval_seconds=0.2, ingestion_max_backoff_seconds=0.4)
    container = build_container(settings, url)
    await start_resources(container)
    yield container
    await stop_resources(container)


async def test_the_loop_resumes_by_itself_after_the_database_restarts(
    restart_container: Container, restartable_postgres: EmbeddedPostgres
) -> None:
    url = restartable_postgres.url
    # Unfenced (no leadership): this test is about the loop surviving a restart, not about who leads.
    ingest = IngestBatch(
        restart_container.gateways.trade_source(),
        await resolve(restart_container.gateways.unit_of_work),
        restart_container.core.clock(),
    )
    runner = IngestionRunner(ingest, 0.2, 0.4)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await async_wait_for(
            lambda: _async(lambda: (_one(url, "SELECT batches_committed FROM ingestion_heartbeat") or 0) >= 2)
        )
        await asyncio.to_thread(restartable_postgres.stop)
        await async_wait_for(lambda: _async(lambda: runner.consecutive_failures >= 2))
        await asyncio.to_thread(restartable_postgres.start)
        await async_wait_for(
            lambda: _async(lambda: (_one(url, "SELECT failed_attempts FROM ingestion_heartbeat") or 0) >= 2), timeout=20
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert runner.consecutive_failures == 0
    _assert_strictly_increasing_per_symbol(url)
    assert _one(url, "SELECT trades_ingested FROM ingestion_heartbeat") == _one(url, "SELECT count(*) FROM trades")


def test_readiness_follows_the_database_down_and_back_up(restartable_postgres: EmbeddedPostgres) -> None:
    url = restartable_postgres.url
    with LiveServer(make_settings(url), url) as server:
        assert httpx.get(f"{server.base_url}/health/ready").status_code == 200
        restartable_postgres.stop()
        try:
            down = httpx.get(f"{server.base_url}/health/ready", timeout=5)
            assert down.status_code == 503
            assert down.json()["db_healthy"] is False and "database" in down.json()["reason"]
            assert httpx.get(f"{server.base_url}/health").status_code == 200
        finally:
            restartable_postgres.start()
        wait_for(lambda: httpx.get(f"{server.base_url}/health/ready", timeout=5).status_code == 200)
        assert httpx.get(f"{server.base_url}/symbols").status_code == 200


def _assert_strictly_increasing_per_symbol(url: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT symbol, ts FROM trades ORDER BY id").fetchall()
    by_symbol: dict[str, list[datetime]] = defaultdict(list)
    for symbol, ts in rows:
        by_symbol[symbol].append(ts)
    assert rows
    for stamps in by_symbol.values():
        assert all(a < b for a, b in itertools.pairwise(stamps))


async def _async(check):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(check)
