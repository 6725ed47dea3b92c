"""`AsyncMarketDataClient`: `MarketDataClient` for asyncio, method for method."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import httpx

from market_data_client import frames
from market_data_client.calls import (
    HEALTH,
    METRICS,
    STATUS,
    SYMBOLS,
    Call,
    Instant,
    RetryPolicy,
    candles_call,
    client_options,
    decode,
    readiness,
    trades_call,
)
from market_data_client.contract import (
    CandlesResponse,
    Health,
    IngestionStatusResponse,
    MetricsResponse,
    Readiness,
    TradeOut,
    TradesResponse,
)

if TYPE_CHECKING:
    import pandas

T = TypeVar("T")


class AsyncMarketDataClient:
    """Like `MarketDataClient`, awaited: `async with AsyncMarketDataClient(url) as client: await client.candles(...)`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retry_attempts: int = 3,
        max_retry_wait: float = 30.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(transport=transport, **client_options(base_url, timeout, headers))
        self._retry = RetryPolicy(retry_attempts, max_retry_wait)
        self._sleep = sleep

    async def __aenter__(self) -> AsyncMarketDataClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def candles(
        self,
        symbol: str,
        interval: str,
        start: Instant,
        end: Instant,
        *,
        tz: str | None = None,
        fill: str | None = None,
    ) -> CandlesResponse:
        """GET /candles: buckets whose start lies in [floor(start), end); `tz` for 1d local days, `fill="previous"`."""
        return await self._get(candles_call(symbol, interval, start, end, tz, fill))

    async def trades(
        self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None, cursor: str | None = None
    ) -> TradesResponse:
        """One page of GET /trades; pass its `next_cursor` as `cursor` for the next."""
        return await self._get(trades_call(symbol, start, end, limit, cursor))

    async def iter_trades(
        self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None
    ) -> AsyncIterator[TradeOut]:
        """Every trade in [start, end), oldest first, page after page by the cursor (`limit` per page)."""
        cursor: str | None = None
        while True:
            page = await self.trades(symbol, start, end, limit=limit, cursor=cursor)
            for trade in page.trades:
                yield trade
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def symbols(self) -> list[str]:
        return (await self._get(SYMBOLS)).symbols

    async def health(self) -> Health:
        return await self._get(HEALTH)

    async def ready(self) -> Readiness:
        """GET /health/ready: `db_healthy` false (503) is an answer, not an error; a probe, so never retried."""
        return readiness(await self._http.get("/health/ready"))

    async def status(self) -> IngestionStatusResponse:
        """GET /status/ingestion."""
        return await self._get(STATUS)

    async def metrics(self) -> MetricsResponse:
        """GET /metrics as JSON."""
        return await self._get(METRICS)

    async def candles_frame(
        self,
        symbol: str,
        interval: str,
        start: Instant,
        end: Instant,
        *,
        tz: str | None = None,
        fill: str | None = None,
    ) -> pandas.DataFrame:
        """`candles(...)` as a DataFrame, one row per candle (needs the `[pandas]` extra)."""
        frames.require_pandas("candles_frame")
        return frames.candles_frame((await self.candles(symbol, interval, start, end, tz=tz, fill=fill)).candles)

    async def trades_frame(
        self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None
    ) -> pandas.DataFrame:
        """Every trade of `iter_trades(...)` as a DataFrame (needs the `[pandas]` extra)."""
        frames.require_pandas("trades_frame")
        return frames.trades_frame([t async for t in self.iter_trades(symbol, start, end, limit=limit)])

    async def _get(self, call: Call[T]) -> T:
        attempt = 1
        while True:
            response = await self._http.get(call.path, params=dict(call.params), headers=dict(call.headers))
            wait = self._retry.wait_before_retry(response, attempt)
            if wait is None:
                return decode(response, call.type)
            await self._sleep(wait)
            attempt += 1
