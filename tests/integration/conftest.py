"""Real PostgreSQL for integration tests: DATABASE_URL when set, else an embedded server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import psycopg
import pytest

from adapters.postgres import migrations
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.url import libpq_url
from entrypoints.container import Container, build_container, start_resources, stop_resources
from tests.integration.support import TABLES, LiveServer, make_settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server to create test databases on (never the user's own database)."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", port=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[Callable[..., str]]:
    """Creates empty databases on the session server and drops them at the end."""
    created: list[str] = []

    def create(prefix: str = "mdp_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _with_database(server_url, name)

    yield create
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(fresh_database: Callable[..., str]) -> str:
    """The session database, migrated once with alembic."""
    url = fresh_database()
    migrations.upgrade(url)
    return url


@pytest.fixture
def clean_db(database_url: str) -> str:
    """Isolation: every test starts from empty tables (schema and partitions kept)."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    return database_url


@pytest.fixture
async def container(clean_db: str) -> AsyncIterator[Container]:
    container = build_container(make_settings(clean_db), clean_db)
    await start_resources(container)
    try:
        yield container
    finally:
        await stop_resources(container)


@pytest.fixture
def live_server(clean_db: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(clean_db), clean_db) as server:
        yield server


@pytest.fixture(scope="module")
def restartable_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """A server of the test's own that it may stop and start (fault tests); migrated."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg-restartable") / "data", port=0)
    server.start()
    migrations.upgrade(server.url)
    try:
        yield server
    finally:
        server.stop()
