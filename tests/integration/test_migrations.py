"""Alembic alone builds the schema: up, down, up again, and the models agree with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from adapters.postgres import migrations
from adapters.postgres.tables import include_object, metadata
from adapters.postgres.url import libpq_url, sync_url
from tests.integration.market_data_support import assert_candles_true

EXPECTED_TABLES = {
    "symbols",
    "trades",
    "trades_default",
    "candles",
    "ingestion_heartbeat",
    "ingestion_watermark",
    "row_counts",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows} - {"alembic_version"}


def test_upgrade_downgrade_upgrade(fresh_database: Callable[..., str]) -> None:
    url = fresh_database("mdp_migrations")
    migrations.upgrade(url)
    assert _tables(url) >= EXPECTED_TABLES
    assert migrations.current_revision(url) == migrations.head_revision()
    migrations.downgrade(url, "base")
    assert _tables(url) == set()
    assert migrations.current_revision(url) is None
    migrations.upgrade(url)
    assert _tables(url) >= EXPECTED_TABLES


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_the_five_symbols_are_seeded(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        symbols = [r[0] for r in conn.execute("SELECT symbol FROM symbols ORDER BY symbol")]
    assert symbols == ["AAPL", "AMZN", "GOOGL", "MSFT", "TSLA"]


def test_upgrading_a_database_with_trades_builds_their_candles_and_downgrading_keeps_the_trades(
    fresh_database: Callable[..., str],
) -> None:
    url = fresh_database("mdp_upgrade")
    migrations.upgrade(url, "0002")
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SELECT ensure_trade_partitions('2026-03-01', '2026-03-03')")
        conn.execute(
            "INSERT INTO trades (symbol, ts, price, volume) "
            "SELECT s, TIMESTAMPTZ '2026-03-01' + g * interval '97 seconds', 100 + g % 37, 1 + g % 5 "
            "FROM unnest(ARRAY['AAPL', 'MSFT']) AS s, generate_series(0, 2000) AS g"
        )
        conn.execute(
            "INSERT INTO ingestion_heartbeat (source, beat_at, last_trade_at, batches_committed, trades_ingested, "
            "last_batch_trades, last_batch_duration_ms, failed_attempts) "
            "VALUES ('synthetic', now(), TIMESTAMPTZ '2026-03-03 05:53:17', 1, 4002, 4002, 1.0, 0)"
        )
    migrations.upgrade(url)
    assert_candles_true(url)
    with psycopg.connect(libpq_url(url)) as conn:
        # What was ingested before the upgrade is final up to the last trade the heartbeat knew.
        assert conn.execute("SELECT watermark FROM ingestion_watermark").fetchone() == (
            datetime(2026, 3, 3, 5, 53, 17, tzinfo=UTC),
        )
    migrations.downgrade(url, "0002")
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute("SELECT count(*) FROM trades").fetchone() == (4002,)
    migrations.upgrade(url)
    assert_candles_true(url)
