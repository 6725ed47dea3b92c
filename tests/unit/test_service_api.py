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


async def test_a_failure_is_shared_like_an_answer_and_kept_no_longer_than_the_ttl() -> None:
    calls: list[str] = []
    now = [100.0]

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        return httpx.Response(200, json={"symbols": ["AAPL"]})

    client = AsyncMarketDataClient("http://api", retry_attempts=1, transport=httpx.MockTransport(flaky))
    shared = ServiceApi(client, timeout_seconds=0.5, cache_seconds=1.0, now=lambda: now[0])
    first, second = await shared.symbols(), await shared.symbols()
    assert not first.ok and second is first and calls == ["/symbols"]
    now[0] += 1.0
    third = await shared.symbols()
    assert third.ok and third.data == ["AAPL"] and calls == ["/symbols", "/symbols"]


async def test_without_a_cache_every_call_is_made() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"symbols": ["AAPL"]})

    plain = api(answer)  # cache_seconds defaults to 0, as `mdp status` uses it
    await plain.symbols()
    await plain.symbols()
    assert calls == ["/symbols", "/symbols"]
