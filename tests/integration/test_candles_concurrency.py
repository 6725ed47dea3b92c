"""Ingestion, a backfill and 16 readers at once: no error, no deadlock, no duplicate, and every candle true after."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from adapters.postgres.bulk import PostgresTradeCopier
from adapters.postgres.url import libpq_url
from adapters.synthetic.source import SyntheticTradeSource
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.backfill import chunks
from tests.integration.market_data_support import assert_candles_true
from tests.integration.support import LiveServer, make_settings, wait_for

READERS = 16


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def heartbeats(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT coalesce(max(batches_committed), 0) FROM ingestion_heartbeat").fetchone()
    return int(row[0]) if row else 0


def test_ingestion_a_backfill_and_concurrent_readers(clean_db: str) -> None:
    now = datetime.now(UTC)
    settings = make_settings(clean_db, ingestion_enabled=True, ingestion_interval_seconds=0.2)
    rnd = random.Random(5)
    with LiveServer(settings, clean_db) as server:
        wait_for(lambda: heartbeats(clean_db) >= 2)
        # An hour of history ending before ingestion began, loaded while ingestion and readers run.
        source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=now - timedelta(hours=1), trades_per_second=5, seed=1)
        backfill = threading.Thread(
            target=lambda: PostgresTradeCopier(clean_db).copy(
                chunks(source, now - timedelta(hours=1), now - timedelta(seconds=5)),
                (now - timedelta(hours=1), now),
            )
        )

        def ask(i: int) -> int:
            interval = rnd.choice(["1s", "1m", "5m", "1h", "1d"])
            span = {"1s": timedelta(minutes=2), "1m": timedelta(hours=1)}.get(interval, timedelta(hours=6))
            lo = now - span + timedelta(seconds=rnd.randint(-600, 60))
            params = {"symbol": rnd.choice(SUPPORTED_SYMBOLS), "interval": interval}
            params |= {"start": z(lo), "end": z(lo + span + timedelta(minutes=2))}
            if interval == "1d" and i % 2:
                params["tz"] = "America/New_York"
            return httpx.get(f"{server.base_url}/candles", params=params, timeout=30).status_code

        backfill.start()
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            statuses = list(pool.map(ask, range(READERS * 8)))
        backfill.join(timeout=120)
        assert not backfill.is_alive()
        committed = heartbeats(clean_db)
        wait_for(lambda: heartbeats(clean_db) >= committed + 2)  # ingestion was not stopped by any of it
    assert statuses == [200] * len(statuses)
    assert_candles_true(clean_db)
