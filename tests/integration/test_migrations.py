"""Alembic alone builds the schema: up, down, up again, and the models agree with it."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from adapters.postgres import migrations
from adapters.postgres.tables import include_object, metadata
from adapters.postgres.url import libpq_url, sync_url

EXPECTED_TABLES = {"symbols", "trades", "trades_default", "candles", "ingestion_heartbeat", "row_counts"}


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
