"""What the sync and async clients share: the requests, the decoding, the typed error and the retry rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from market_data_client.contract import (
    CandlesResponse,
    Health,
    IngestionStatusResponse,
    MetricsResponse,
    Problem,
    Readiness,
    SymbolsResponse,
    TradesResponse,
)

T = TypeVar("T")

Instant = datetime | str
"""An aware datetime, or text the API accepts (RFC 3339 with an offset, or epoch milliseconds)."""

DEFAULT_RETRY_WAIT = 1.0
"""Seconds to wait after a 503 that names no Retry-After."""


class ApiError(Exception):
    """The API answered 4xx or 5xx; `problem` is its RFC 9457 body (None when the body was not one)."""

    def __init__(self, status: int, problem: Problem | None, body: str = "") -> None:
        self.status = status
        self.problem = problem
        self.body = body
        said = f"{problem.title}: {problem.detail}" if problem else body[:200] or "no problem details"
        super().__init__(f"HTTP {status}: {said}")

    @property
    def invalid_params(self) -> dict[str, str]:
        """Each bad query parameter and why, as the API named them."""
        return {p.name: p.reason for p in self.problem.invalid_params} if self.problem else {}


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One GET: where, with which query, decoded into which contract type."""

    path: str
    type: type[T]
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def instant(name: str, moment: Instant) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (the API refuses naive times): {moment!r}")
    return moment.isoformat()


def candles_call(
    symbol: str, interval: str, start: Instant, end: Instant, tz: str | None = None, fill: str | None = None
) -> Call[CandlesResponse]:
    params = {"symbol": symbol, "interval": interval, "start": instant("start", start), "end": instant("end", end)}
    if tz is not None:
        params["tz"] = tz
    if fill is not None:
        params["fill"] = fill
    return Call("/candles", CandlesResponse, params)


def trades_call(
    symbol: str, start: Instant, end: Instant, limit: int | None = None, cursor: str | None = None
) -> Call[TradesResponse]:
    params = {"symbol": symbol, "start": instant("start", start), "end": instant("end", end)}
    if limit is not None:
        params["limit"] = str(limit)
    if cursor is not None:
        params["cursor"] = cursor
    return Call("/trades", TradesResponse, params)


SYMBOLS = Call("/symbols", SymbolsResponse)
HEALTH = Call("/health", Health)
STATUS = Call("/status/ingestion", IngestionStatusResponse)
# /metrics answers Prometheus text on request; the client asks for its JSON.
METRICS = Call("/metrics", MetricsResponse, headers={"Accept": "application/json"})


def decode(response: httpx.Response, type_: type[T]) -> T:
    """The body as the contract type; ApiError on 4xx/5xx."""
    if response.status_code >= 400:
        raise api_error(response)
    return msgspec.json.decode(response.content, type=type_)


def readiness(response: httpx.Response) -> Readiness:
    """/health/ready answers a Readiness with 200 (ready) and with 503 (not ready); anything else is an ApiError."""
    if response.status_code not in (200, 503):
        raise api_error(response)
    return msgspec.json.decode(response.content, type=Readiness)


def api_error(response: httpx.Response) -> ApiError:
    try:
        problem: Problem | None = msgspec.json.decode(response.content, type=Problem)
    except msgspec.DecodeError:  # a proxy's HTML page, say: keep the text
        problem = None
    return ApiError(response.status_code, problem, response.text if problem is None else "")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """On 503, wait as Retry-After says (capped) and try again, at most `attempts` requests in all."""

    attempts: int = 3
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")

    def wait_before_retry(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before request number `attempt + 1`, or None: do not retry (return or raise)."""
        if response.status_code != 503 or attempt >= self.attempts:
            return None
        return min(self.max_wait, retry_after(response))


def retry_after(response: httpx.Response) -> float:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110); a missing or unreadable one means a second."""
    value = response.headers.get("retry-after")
    if value is None:
        return DEFAULT_RETRY_WAIT
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_WAIT
    if when.tzinfo is None:
        return DEFAULT_RETRY_WAIT
    return max(0.0, (when - _date_of(response)).total_seconds())


def _date_of(response: httpx.Response) -> datetime:
    """The server's clock when it answered (its Date header), else ours."""
    try:
        return parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def client_options(base_url: str, timeout: float, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "timeout": httpx.Timeout(timeout),
        "headers": {"Accept": "application/json", **(headers or {})},
    }
