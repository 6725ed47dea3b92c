"""ServiceApi: the typed client's answers as values, and every failure as a value that says why."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.http_client.service_api import ServiceApi
from market_data_client import AsyncMarketDataClient

Handler = Callable[[httpx.Request], httpx.Response]


def api(handler: Handler) -> ServiceApi:
    client = AsyncMarketDataClient("http://api", retry_attempts=1, transport=httpx.MockTransport(handler))
    return ServiceApi(client, timeout_seconds=0.5)


async def test_an_answer_comes_back_typed() -> None:
    fetched = await api(lambda request: httpx.Response(200, json={"symbols": ["AAPL", "MSFT"]})).symbols()
    assert fetched.ok and fetched.data == ["AAPL", "MSFT"] and fetched.path == "/symbols"


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


@pytest.mark.parametrize(
    ("handler", "says"),
    [
        (_timeout, "no answer within 0.5s"),
        (_refused, "ConnectError: All connection attempts failed"),
        (
            lambda r: httpx.Response(503, json={"title": "Unavailable", "status": 503, "detail": "database down"}),
            "HTTP 503: database down",
        ),
        (lambda r: httpx.Response(502, text="<html>bad gateway</html>"), "HTTP 502"),
        (lambda r: httpx.Response(200, text="not json"), "the answer does not fit the contract: "),
        (lambda r: httpx.Response(200, json={"status": "alive"}), "the answer does not fit the contract: "),
    ],
    ids=["timeout", "refused", "problem", "not-a-problem", "not-json", "missing-fields"],
)
async def test_a_failure_is_a_value_with_the_reason(handler: Handler, says: str) -> None:
    fetched = await api(handler).status()
    assert not fetched.ok and fetched.data is None
    assert fetched.path == "/status/ingestion"
    assert fetched.error is not None and fetched.error.startswith(says)
