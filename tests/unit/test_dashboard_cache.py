"""Ten concurrent /dashboard renders make one API call per URL; after DASHBOARD_CACHE_SECONDS, new ones."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import httpx
import msgspec
from litestar import Litestar
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from adapters.http_client.service_api import ServiceApi
from entrypoints.http.dashboard import page
from market_data_client import AsyncMarketDataClient
from market_data_client.contract import CandlesResponse, FreshnessOut, IngestionStatusResponse, Problem
from tests.integration.html_page import Page

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SYMBOLS = ["AAPL", "MSFT"]
FIXED = ("http://api/status/ingestion", "http://api/metrics", "http://api/symbols")


class SteppedClock:
    """Monotonic seconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeServiceApi:
    """The service's HTTP API for httpx.MockTransport: counts calls by URL; answers wait for the gate.

    `/metrics` answers 503, so failures are shown to be shared like answers.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.opened = asyncio.Event()
        self.first_calls_made = asyncio.Event()  # a render has asked for status, metrics and symbols

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls[str(request.url)] += 1
        if all(url in self.calls for url in FIXED):
            self.first_calls_made.set()
        await self.opened.wait()
        path = request.url.path
        if path == "/status/ingestion":
            return _json(_status())
        if path == "/symbols":
            return httpx.Response(200, json={"symbols": SYMBOLS})
        if path == "/candles":
            return _json(_candles(request.url.params["symbol"]))
        return httpx.Response(
            503,
            content=msgspec.json.encode(Problem(title="Service unavailable", status=503, detail="database down")),
            headers={"content-type": "application/problem+json"},
        )


def dashboard_app(api: ServiceApi) -> Litestar:
    """The real dashboard handler and template; its dependencies given directly, the fake API behind it."""

    def const(value: object) -> Provide:
        return Provide(lambda: value, sync_to_thread=False)

    app = Litestar(
        route_handlers=[page.dashboard],
        template_config=TemplateConfig(directory=page.TEMPLATES, engine=JinjaTemplateEngine),
        dependencies={
            "dashboard_api": const(api),
            "dashboard_refresh_seconds": const(5.0),
            "csp_nonce": const("nonce"),
        },
    )
    app.state.operator_token = None
    return app


def browser(app: Litestar) -> httpx.AsyncClient:
    """Requests to the app in this event loop, concurrently (Litestar's AsyncTestClient runs them one at a time)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dashboard")


async def test_concurrent_renders_share_one_call_per_url_until_the_ttl_passes() -> None:
    fake, clock = FakeServiceApi(), SteppedClock()
    calls_api = AsyncMarketDataClient("http://api", retry_attempts=1, transport=httpx.MockTransport(fake))
    api = ServiceApi(calls_api, timeout_seconds=2.0, cache_seconds=1.0, now=clock)
    async with browser(dashboard_app(api)) as client:
        renders = [asyncio.create_task(client.get("/dashboard")) for _ in range(10)]
        await fake.first_calls_made.wait()  # those calls are in flight, held at the gate
        fake.opened.set()
        pages = [Page(response.text) for response in await asyncio.gather(*renders)]
        first_round = Counter(fake.calls)

        clock.now += 1.0  # the answers are now as old as the TTL
        again = Page((await client.get("/dashboard")).text)

    assert all(p.words("ingestion-badge") == "alive" for p in [*pages, again])
    assert all("GET /metrics" in p.words("problems") and "HTTP 503" in p.words("problems") for p in pages)
    assert set(first_round.values()) == {1}, f"a URL was called more than once: {first_round}"
    candle_urls = [url for url in first_round if "/candles?" in url]
    assert {httpx.URL(url).params["symbol"] for url in candle_urls} == set(SYMBOLS)
    after_ttl = fake.calls - first_round
    assert all(after_ttl[url] == 1 for url in FIXED)
    assert sum(n for url, n in after_ttl.items() if "/candles?" in url) == len(SYMBOLS)


async def test_with_the_cache_off_every_render_makes_its_own_calls() -> None:
    fake = FakeServiceApi()
    fake.opened.set()
    calls_api = AsyncMarketDataClient("http://api", retry_attempts=1, transport=httpx.MockTransport(fake))
    api = ServiceApi(calls_api, timeout_seconds=2.0, cache_seconds=0, now=SteppedClock())
    async with browser(dashboard_app(api)) as client:
        await asyncio.gather(*(client.get("/dashboard") for _ in range(3)))
    assert all(fake.calls[url] == 3 for url in FIXED)


def _json(body: msgspec.Struct) -> httpx.Response:
    return httpx.Response(200, content=msgspec.json.encode(body), headers={"content-type": "application/json"})


def _status() -> IngestionStatusResponse:
    return IngestionStatusResponse(
        status="alive",
        heartbeat_at=NOW,
        heartbeat_age_seconds=0.4,
        last_trade_at=NOW,
        seconds_since_last_trade=0.5,
        stale_after_seconds=3.0,
        interval_seconds=1.0,
        db_healthy=True,
        db_latency_ms=1.0,
        db_error=None,
        figures_source="live",
        figures_read_at=NOW,
        started_at=NOW,
        uptime_seconds=60.0,
        instance_id="api-1",
    )


def _candles(symbol: str) -> CandlesResponse:
    freshness = FreshnessOut("alive", NOW, 0.4, 3.0, NOW, 0.5)
    return CandlesResponse(symbol, "1m", NOW, NOW, NOW, candles=[], freshness=freshness)
