"""Which PostgreSQL to use: DATABASE_URL when set, else an embedded server this process may start."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg

from adapters.postgres import migrations
from adapters.postgres.url import libpq_url, redacted
from application.failures import describe
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from adapters.postgres.embedded import EmbeddedPostgres

log = logging.getLogger("mdp.database")


class StartupError(RuntimeError):
    """The service cannot start; the message is the one line to show."""


@dataclass
class Database:
    url: str
    embedded: EmbeddedPostgres | None = None
    started_here: bool = False


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """Yield a reachable database; stop the embedded server on exit if this process started it."""
    if settings.database_url:
        db = Database(settings.database_url)
        wait_until_reachable(db.url, settings.db_startup_timeout_seconds)
        yield db
        return
    # Imported only when needed: the wheel warns about XDG_RUNTIME_DIR on import,
    # which would be noise before the one line a failed start prints.
    from adapters.postgres.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.embedded_data_dir, settings.embedded_postgres_port)
    try:
        started = server.start()
    except Exception as error:
        raise StartupError(
            f"could not start embedded PostgreSQL in {server.data_dir}: {error} (see {server.log_file})"
        ) from error
    db = Database(server.url, server, started)
    try:
        wait_until_reachable(db.url, settings.db_startup_timeout_seconds)
        yield db
    finally:
        if started:
            server.stop()


def wait_until_reachable(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(libpq_url(url), connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            if time.monotonic() >= deadline:
                raise StartupError(
                    f"database {redacted(url)} unreachable for {timeout:g}s (DB_STARTUP_TIMEOUT_SECONDS): "
                    f"{describe(error, redact=False)}"
                ) from error
            time.sleep(0.5)


def ensure_schema(url: str, migrate: bool) -> None:
    """Apply migrations, or refuse to serve a schema older than this code expects."""
    if migrate:
        before = migrations.current_revision(url)
        migrations.upgrade(url)
        after = migrations.current_revision(url)
        log.info("database schema at %s%s", after, f" (migrated from {before or 'nothing'})" if after != before else "")
        return
    current, head = migrations.current_revision(url), migrations.head_revision()
    if current != head:
        raise StartupError(
            f"database schema is at {current or 'nothing'} but this version needs {head}: run `mdp migrate`"
        )
