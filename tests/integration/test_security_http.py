"""The operator token, security headers and HEAD, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.html_page import Page
from tests.integration.support import LiveServer, make_settings

TOKEN = "s3cret"
OPERATOR_ROUTES = ("/metrics", "/dashboard")
RANGE = "start=2026-01-01T00:00:00Z&end=2026-01-01T01:00:00Z"


@pytest.fixture
def guarded(clean_db: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(clean_db, operator_token=TOKEN), clean_db) as server:
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", OPERATOR_ROUTES)
@pytest.mark.parametrize("headers", [{}, bearer("wrong"), {"Authorization": TOKEN}], ids=["none", "wrong", "no-scheme"])
def test_operator_routes_need_the_token(guarded: LiveServer, path: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{guarded.base_url}{path}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["status"] == 401


def test_with_the_token_operator_routes_answer_and_the_dashboard_authenticates_its_own_calls(
    guarded: LiveServer,
) -> None:
    assert httpx.get(f"{guarded.base_url}/metrics", headers=bearer(TOKEN)).status_code == 200
    response = httpx.get(f"{guarded.base_url}/dashboard", headers=bearer(TOKEN))
    assert response.status_code == 200
    page = Page(response.text)
    assert "problems" not in page.text  # /metrics answered the dashboard's own call
    assert "healthy yes" in page.words("database")
    charts = page.words("charts")
    assert all(symbol in charts for symbol in ("AAPL", "AMZN", "GOOGL", "MSFT", "TSLA"))


@pytest.mark.parametrize(
    "path",
    [
        "/symbols",
        f"/trades?symbol=AAPL&{RANGE}",
        f"/candles?symbol=AAPL&interval=1m&{RANGE}",
        "/health",
        "/health/ready",
        "/status/ingestion",
        "/schema/openapi.json",
    ],
)
def test_market_data_and_health_stay_public(guarded: LiveServer, path: str) -> None:
    assert httpx.get(f"{guarded.base_url}{path}").status_code == 200


def test_json_and_problem_responses_are_nosniff(live_server: LiveServer) -> None:
    for path, status in (("/health", 200), ("/candles?symbol=NOPE&interval=1m", 400), ("/nowhere", 404)):
        response = httpx.get(f"{live_server.base_url}{path}")
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in response.headers


def test_the_dashboard_policy_allows_only_its_own_scripts(live_server: LiveServer) -> None:
    first = httpx.get(f"{live_server.base_url}/dashboard")
    second = httpx.get(f"{live_server.base_url}/dashboard")
    policy = dict(directive.strip().split(" ", 1) for directive in first.headers["content-security-policy"].split(";"))
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", policy["script-src"])
    assert nonce is not None and "unsafe-inline" not in policy["script-src"]
    scripts = re.findall(r"<script\b([^>]*)>", first.text)
    assert scripts and all(f'nonce="{nonce.group(1)}"' in attributes for attributes in scripts)
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert first.headers["x-frame-options"] == "DENY"
    assert nonce.group(0) not in second.headers["content-security-policy"]  # new for every response


@pytest.mark.parametrize("path", ["/health", f"/candles?symbol=AAPL&interval=1m&{RANGE}", "/nowhere"])
def test_head_answers_like_get_without_a_body(live_server: LiveServer, path: str) -> None:
    got = httpx.get(f"{live_server.base_url}{path}")
    head = httpx.head(f"{live_server.base_url}{path}")
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_head_on_the_endless_stream_is_refused(live_server: LiveServer) -> None:
    response = httpx.head(f"{live_server.base_url}/candles/stream?interval=1m", timeout=5)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_the_served_openapi_schema_declares_the_token_on_the_operator_routes_only(guarded: LiveServer) -> None:
    schema = httpx.get(f"{guarded.base_url}/schema/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["OperatorToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, item in schema["paths"].items():
        operation = item["get"]
        if path in OPERATOR_ROUTES:
            assert operation["security"] == [{"OperatorToken": []}]
            refused = operation["responses"]["401"]
            assert refused["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert "Authorization: Bearer" in refused["description"]
            assert "WWW-Authenticate: Bearer" in refused["description"]
        else:
            assert "security" not in operation, f"{path} is public: it must not declare a token"
            assert "401" not in operation["responses"]
    assert set(OPERATOR_ROUTES) <= set(schema["paths"])
