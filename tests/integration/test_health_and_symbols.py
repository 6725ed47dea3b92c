"""The minimal API over real HTTP against a real PostgreSQL."""

from __future__ import annotations

import httpx

from tests.integration.support import LiveServer


def test_health_answers_without_the_database(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.base_url}/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["db_healthy"] is True
    assert body["db_latency_ms"] > 0


def test_symbols_are_the_five_supported(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.base_url}/symbols")
    assert response.status_code == 200
    assert response.json() == {"symbols": ["AAPL", "AMZN", "GOOGL", "MSFT", "TSLA"]}


def test_unknown_route_is_a_json_problem(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.base_url}/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
