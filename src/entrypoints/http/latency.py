"""Request latency per route template, since start and over the last minute, measured in ASGI middleware."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.histogram import Histogram
from market_data_client.contract import LatencySummary

WINDOW_SECONDS = 60
UNMATCHED = "(unmatched)"
"""Template of requests that matched no route: one row, whatever the raw URLs were."""


@dataclass(frozen=True, slots=True)
class RouteLatency:
    method: str
    route: str
    since_start: LatencySummary
    last_minute: LatencySummary
    since_start_histogram: Histogram


class _RouteStats:
    """One route: a histogram since start, and one per second for the rolling minute."""

    __slots__ = ("earlier", "earlier_at", "seconds", "slots", "total")

    def __init__(self) -> None:
        self.total = Histogram()
        self.slots: list[Histogram | None] = [None] * WINDOW_SECONDS
        self.seconds = [-1] * WINDOW_SECONDS
        self.earlier = Histogram()
        """The window's whole seconds before `earlier_at`, merged once per second rather than per call."""
        self.earlier_at = -1

    def record(self, ms: float, status: int, second: int) -> None:
        self.total.record(ms, status)
        index = second % WINDOW_SECONDS
        slot = self.slots[index]
        if slot is None or self.seconds[index] != second:
            slot = self.slots[index] = Histogram()
            self.seconds[index] = second
        slot.record(ms, status)

    def last_minute(self, second: int) -> Histogram:
        if self.earlier_at != second:
            self.earlier = Histogram()
            for slot, at in zip(self.slots, self.seconds, strict=True):
                if slot is not None and 0 < second - at < WINDOW_SECONDS:
                    self.earlier.merge(slot)
            self.earlier_at = second
        merged = Histogram()
        merged.merge(self.earlier)
        current = self.slots[second % WINDOW_SECONDS]
        if current is not None and self.seconds[second % WINDOW_SECONDS] == second:
            merged.merge(current)  # the second under way changes between calls: always merged fresh
        return merged


class LatencyRecorder:
    """Keeps the latency of every request, by method and route template."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._routes: dict[tuple[str, str], _RouteStats] = {}

    def record(self, method: str, route: str, ms: float, status: int) -> None:
        stats = self._routes.get((method, route))
        if stats is None:
            stats = self._routes[(method, route)] = _RouteStats()
        stats.record(ms, status, int(self._monotonic()))

    def snapshot(self) -> list[RouteLatency]:
        second = int(self._monotonic())
        return [
            RouteLatency(method, route, stats.total.summary(), stats.last_minute(second).summary(), stats.total)
            for (method, route), stats in sorted(self._routes.items(), key=lambda item: (item[0][1], item[0][0]))
        ]


class LatencyMiddleware:
    """Times each HTTP request from arrival until the app returns, whatever produced the response.

    As ASGI middleware it sees responses made by exception handlers too, which
    after-request hooks miss. The route template comes from the scope the router
    fills in, so `/candles?symbol=X` and `/candles?symbol=Y` are one route.
    """

    def __init__(self, app: ASGIApp, recorder: LatencyRecorder) -> None:
        self._app = app
        self._recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        status = 500  # if the app dies before starting a response, that is what the client sees
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            ms = (time.perf_counter() - started) * 1000
            route = scope.get("path_template") or UNMATCHED
            self._recorder.record(scope.get("method", "GET"), route, ms, status)
