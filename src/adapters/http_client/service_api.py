"""The service's public API through `market_data_client`, each answer a typed value or the reason there is none."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from adapters.http_client.answer_cache import AnswerCache
from market_data_client import ApiError, AsyncMarketDataClient
from market_data_client.contract import CandlesResponse, IngestionStatusResponse, MetricsResponse

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """One call's outcome: the answer decoded into the contract type, or why there is none."""

    path: str
    data: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ServiceApi:
    """The typed client under a short timeout, never retried; failures come back as values, never as exceptions.

    With `cache_seconds > 0`, answers (failures included) are shared for that long by every
    caller, and a call in flight is shared by everyone asking the same URL meanwhile.
    """

    def __init__(
        self,
        client: AsyncMarketDataClient,
        timeout_seconds: float,
        cache_seconds: float = 0.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._timeout = timeout_seconds
        self._answers: AnswerCache[tuple[str, ...], Fetched[Any]] = AnswerCache(cache_seconds, now)

    async def status(self) -> Fetched[IngestionStatusResponse]:
        return await self._shared(("/status/ingestion",), self._client.status)

    async def metrics(self) -> Fetched[MetricsResponse]:
        return await self._shared(("/metrics",), self._client.metrics)

    async def symbols(self) -> Fetched[list[str]]:
        return await self._shared(("/symbols",), self._client.symbols)

    async def candles(self, symbol: str, interval: str, start: datetime, end: datetime) -> Fetched[CandlesResponse]:
        key = ("/candles", symbol, interval, start.isoformat(), end.isoformat())
        return await self._shared(key, lambda: self._client.candles(symbol, interval, start, end))

    async def _shared(self, key: tuple[str, ...], call: Callable[[], Awaitable[T]]) -> Fetched[T]:
        """One call per distinct request (path and parameters) at a time, its answer kept `cache_seconds`."""
        fetched: Fetched[T] = await self._answers.get(key, lambda: self._fetch(key[0], call()))
        return fetched

    async def _fetch(self, path: str, answer: Awaitable[T]) -> Fetched[T]:
        try:
            return Fetched(path, data=await answer)
        except httpx.TimeoutException:
            return Fetched(path, error=f"no answer within {self._timeout:g}s")
        except httpx.HTTPError as error:
            return Fetched(path, error=f"{type(error).__name__}: {error}".strip().rstrip(":"))
        except ApiError as error:
            detail = f": {error.problem.detail}" if error.problem else ""
            return Fetched(path, error=f"HTTP {error.status}{detail}")
        except msgspec.DecodeError as error:  # also ValidationError: JSON that does not fit the contract
            return Fetched(path, error=f"the answer does not fit the contract: {error}")


async def service_api_resource(
    base_url: str, timeout_seconds: float, token: str | None = None, cache_seconds: float = 0.0
) -> AsyncIterator[ServiceApi]:
    """Container resource: one connection pool and one answer cache for the process.

    One attempt per call (a 503 is shown, not waited out), and an explicit transport, so that
    httpx ignores environment proxies: the API is reached directly. With a token, every call
    sends it as a bearer header (the operator routes need it when OPERATOR_TOKEN is set).
    """
    headers = {"Authorization": f"Bearer {token}"} if token else None
    client = AsyncMarketDataClient(
        base_url, timeout=timeout_seconds, retry_attempts=1, transport=httpx.AsyncHTTPTransport(), headers=headers
    )
    try:
        yield ServiceApi(client, timeout_seconds, cache_seconds)
    finally:
        await client.aclose()
