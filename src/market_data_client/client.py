"""`MarketDataClient`: the service's REST API over httpx, every answer decoded into the contract types."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
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


class MarketDataClient:
    """Blocking client. 4xx/5xx raise `ApiError`; a 503 is retried after its Retry-After, at most
    `retry_attempts` requests in all; a 2xx body that does not fit the contract raises `msgspec.ValidationError`.
    Use it as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retry_attempts: int = 3,
        max_retry_wait: float = 30.0,
        sleep: Callable[[float], object] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._http = httpx.Client(transport=transport, **client_options(base_url, timeout, headers))
        self._retry = RetryPolicy(retry_attempts, max_retry_wait)
        self._sleep = sleep

    def __enter__(self) -> MarketDataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def candles(
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
        return self._get(candles_call(symbol, interval, start, end, tz, fill))

    def trades(
        self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None, cursor: str | None = None
    ) -> TradesResponse:
        """One page of GET /trades; pass its `next_cursor` as `cursor` for the next."""
        return self._get(trades_call(symbol, start, end, limit, cursor))

    def iter_trades(self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None) -> Iterator[TradeOut]:
        """Every trade in [start, end), oldest first, page after page by the cursor (`limit` per page)."""
        cursor: str | None = None
        while True:
            page = self.trades(symbol, start, end, limit=limit, cursor=cursor)
            yield from page.trades
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def symbols(self) -> list[str]:
        return self._get(SYMBOLS).symbols

    def health(self) -> Health:
        return self._get(HEALTH)

    def ready(self) -> Readiness:
        """GET /health/ready: `db_healthy` false (503) is an answer, not an error; a probe, so never retried."""
        return readiness(self._http.get("/health/ready"))

    def status(self) -> IngestionStatusResponse:
        """GET /status/ingestion."""
        return self._get(STATUS)

    def metrics(self) -> MetricsResponse:
        """GET /metrics as JSON."""
        return self._get(METRICS)

    def candles_frame(
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
        return frames.candles_frame(self.candles(symbol, interval, start, end, tz=tz, fill=fill).candles)

    def trades_frame(self, symbol: str, start: Instant, end: Instant, *, limit: int | None = None) -> pandas.DataFrame:
        """Every trade of `iter_trades(...)` as a DataFrame (needs the `[pandas]` extra)."""
        frames.require_pandas("trades_frame")
        return frames.trades_frame(list(self.iter_trades(symbol, start, end, limit=limit)))

    def _get(self, call: Call[T]) -> T:
        attempt = 1
        while True:
            response = self._http.get(call.path, params=dict(call.params), headers=dict(call.headers))
            wait = self._retry.wait_before_retry(response, attempt)
            if wait is None:
                return decode(response, call.type)
            self._sleep(wait)
            attempt += 1
