"""What every benchmark needs: a PostgreSQL to measure on, and migrated databases of its own there."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from adapters.postgres import migrations
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.url import libpq_url


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The server at DATABASE_URL when set (left running), else a throw-away embedded one."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", port=0)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def own_database(server_url: str, prefix: str = "mdp_bench") -> str:
    """A new, migrated database on the server, so a benchmark never touches anyone's data."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    return url


def drop_database(server_url: str, url: str) -> None:
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
