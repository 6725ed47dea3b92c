"""/status/ingestion, /metrics and /dashboard over real HTTP against a real PostgreSQL."""

from __future__ import annotations

import subprocess
from datetime import datetime

import httpx
import psycopg
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url
from tests.deployment import prometheus_tool
from tests.integration.html_page import Page
from tests.integration.support import LiveServer, make_settings, wait_for


def alive(base: str) -> bool:
    return httpx.get(f"{base}/status/ingestion").json()["status"] == "alive"


def test_without_a_heartbeat_ingestion_is_dead_and_the_database_healthy(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.base_url}/status/ingestion")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "dead"
    assert body["heartbeat_at"] is None and body["heartbeat_age_seconds"] is None
    assert body["watermark"] is None and body["watermark_age_seconds"] is None
    assert (body["db_healthy"], body["figures_source"], body["db_error"]) == (True, "live", None)
    assert body["stale_after_seconds"] == 3 * body["interval_seconds"]
    assert body["instance_id"] and body["uptime_seconds"] >= 0


def test_status_and_metrics_while_ingestion_runs(clean_db: str) -> None:
    settings = make_settings(clean_db, ingestion_enabled=True, ingestion_interval_seconds=0.2)
    with LiveServer(settings, clean_db) as server:
        wait_for(lambda: alive(server.base_url))
        wait_for(lambda: httpx.get(f"{server.base_url}/metrics").json()["ingestion"]["batches_committed"] >= 3)
        status = httpx.get(f"{server.base_url}/status/ingestion").json()
        metrics = httpx.get(f"{server.base_url}/metrics").json()
    assert status["heartbeat_age_seconds"] <= status["stale_after_seconds"] == 0.6
    assert status["seconds_since_last_trade"] is not None
    # Each batch is delivered up to when it began: the watermark trails the heartbeat, never leads it.
    moment = {k: datetime.fromisoformat(status[k]) for k in ("last_trade_at", "watermark", "heartbeat_at")}
    assert moment["last_trade_at"] <= moment["watermark"] <= moment["heartbeat_at"]
    assert 0 <= status["watermark_age_seconds"] <= status["stale_after_seconds"]
    assert datetime.fromisoformat(metrics["ingestion"]["watermark"]) >= moment["watermark"]
    assert metrics["db_healthy"] is True and metrics["db_latency_ms"] > 0
    assert metrics["version"] and metrics["instance_id"] == status["instance_id"]
    ingestion = metrics["ingestion"]
    assert ingestion["status"] == "alive"
    assert ingestion["trades_ingested"] > 0 and ingestion["failed_attempts"] == 0
    assert ingestion["last_batch_duration_ms"] > 0 and ingestion["last_error"] is None
    with psycopg.connect(libpq_url(clean_db)) as conn:
        stored = conn.execute("SELECT count(*) FROM trades").fetchone()
    # The counters are exact: ingestion stopped with the server, so the table agrees now.
    assert stored is not None and metrics["counts"]["trades"] <= stored[0]
    assert metrics["counts"]["exact"] is True


def test_metrics_counts_are_the_exact_stored_rows(live_server: LiveServer, clean_db: str) -> None:
    with psycopg.connect(libpq_url(clean_db)) as conn:
        conn.execute(
            "INSERT INTO trades (symbol, ts, price, volume) "
            "SELECT 'AAPL', now() - make_interval(secs => g), 100.25, 1 FROM generate_series(1, 1234) g"
        )
        candles = conn.execute("SELECT count(*) FROM candles").fetchone()
    # The candles were written with the trades: 21 minutes' worth of 1m to 1d candles.
    assert candles is not None and candles[0] > 21

    def counts() -> tuple[object, ...]:
        figures = httpx.get(f"{live_server.base_url}/metrics").json()["counts"]
        return (figures["trades"], figures["candles"], figures["source"])

    # The figures are the monitor's snapshot, taken every quarter second: the insert shows up in the next.
    wait_for(lambda: counts() == (1234, candles[0], "live"), timeout=3)


def test_latency_is_kept_per_route_template(live_server: LiveServer) -> None:
    for query in ("", "?a=1", "?b=2"):
        assert httpx.get(f"{live_server.base_url}/symbols{query}").status_code == 200
    routes = httpx.get(f"{live_server.base_url}/metrics").json()["latency"]["routes"]
    [symbols] = [r for r in routes if r["route"] == "/symbols"]
    assert symbols["method"] == "GET"
    for window in ("since_start", "last_minute"):
        figures = symbols[window]
        assert (figures["count"], figures["errors_4xx"], figures["errors_5xx"]) == (3, 0, 0)
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["mean_ms"] <= figures["max_ms"]


def test_prometheus_text_when_asked_for_and_json_by_default(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.base_url}/metrics").headers["content-type"].startswith("application/json")
    response = httpx.get(f"{live_server.base_url}/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    assert response.status_code == 200
    # One well-formed media type: the classic text format, version 0.0.4, charset once.
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"mdp_rows", "mdp_db_healthy", "mdp_ingestion_alive", "mdp_uptime_seconds", "mdp_info"} <= names
    scraped = httpx.get(
        f"{live_server.base_url}/metrics",
        headers={"Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"},
    )
    assert scraped.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert scraped.text.endswith("# EOF\n")
    assert "mdp_rows" in {family.name for family in openmetrics_families(scraped.text)}  # Prometheus's own parser


def test_the_dashboard_renders_what_the_api_says(clean_db: str) -> None:
    # No answer cache: the second render must fetch /metrics afresh, after the first render was measured.
    settings = make_settings(
        clean_db, ingestion_enabled=True, ingestion_interval_seconds=0.2, dashboard_cache_seconds=0
    )
    with LiveServer(settings, clean_db) as server:
        wait_for(lambda: alive(server.base_url))
        httpx.get(f"{server.base_url}/dashboard")  # a request is measured once it is over
        response = httpx.get(f"{server.base_url}/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.errors == []
    assert page.words("ingestion-badge") == "alive"
    assert "alive" in page.classes["ingestion-badge"]
    assert "problems" not in page.text
    assert "healthy yes" in page.words("database")
    assert "trades stored" in page.words("freshness")
    assert "GET /status/ingestion" in page.words("latency")
    assert "GET /metrics" in page.words("latency")
    assert "GET /dashboard" in page.words("latency")
    charts = page.words("charts")
    assert all(symbol in charts for symbol in ("AAPL", "AMZN", "GOOGL", "MSFT", "TSLA"))
    assert "script" in page.tags and "link" in page.tags


def test_dashboard_renders_share_the_answers_they_fetched(clean_db: str) -> None:
    # DASHBOARD_CACHE_SECONDS reaches the dashboard's client: within it, renders call the API once per URL.
    with LiveServer(make_settings(clean_db, dashboard_cache_seconds=3600), clean_db) as server:
        for _ in range(3):
            assert httpx.get(f"{server.base_url}/dashboard").status_code == 200
        routes = httpx.get(f"{server.base_url}/metrics").json()["latency"]["routes"]
    counts = {route["route"]: route["since_start"]["count"] for route in routes}
    assert counts["/dashboard"] == 3
    assert counts["/symbols"] == 1 and counts["/status/ingestion"] == 1 and counts["/candles"] == 5


def test_the_dashboard_says_what_it_could_not_fetch(clean_db: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with LiveServer(make_settings(clean_db, dashboard_api_base_url=nowhere), clean_db) as server:
        response = httpx.get(f"{server.base_url}/dashboard")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.errors == []
    assert page.words("ingestion-badge") == "unknown"
    problems = page.words("problems")
    for path in ("/status/ingestion", "/metrics", "/symbols"):
        assert f"GET {path}" in problems
    assert "ConnectError" in problems
    assert "chart unavailable" in page.words("charts")


def test_markup_in_figures_is_escaped(clean_db: str) -> None:
    with psycopg.connect(libpq_url(clean_db)) as conn:
        conn.execute(
            "INSERT INTO ingestion_heartbeat VALUES ('synthetic', now(), NULL, 1, 0, 0, 1.0, 1, "
            "'<script>alert(1)</script>', now())"
        )
    with LiveServer(make_settings(clean_db), clean_db) as server:
        html = httpx.get(f"{server.base_url}/dashboard").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_promtool_accepts_the_text_format(live_server: LiveServer) -> None:
    # promtool lints the classic text format (the OpenMetrics body is checked by prometheus-client's parser above).
    httpx.get(f"{live_server.base_url}/symbols")  # a route in the latency table
    body = httpx.get(f"{live_server.base_url}/metrics", headers={"Accept": "text/plain;version=0.0.4"}).text
    checked = subprocess.run(
        [prometheus_tool("promtool"), "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}"
