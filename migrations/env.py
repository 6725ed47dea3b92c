"""Alembic environment: one connection, serialised by an advisory lock across processes."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

from adapters.postgres.tables import include_object, metadata
from adapters.postgres.url import sync_url

# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK_KEY = 727_274_001


def run_migrations_online() -> None:
    config = context.config
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set: alembic needs a database to migrate")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        try:
            _run(conn)
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
    engine.dispose()


def _run(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
