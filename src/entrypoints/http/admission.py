"""Admission control and a deadline in front of the database-backed routes.

Without it a flood queues every request for a pooled connection until the pool
timeout, and the client cannot tell overload from an outage; a frozen database
holds each request as long as it is frozen. Here at most `limit` requests use or
wait for the database at a time, and the next one is told at once that the
service is busy (503, Retry-After). An admitted request that has not started
its response by the deadline is answered 503 at the deadline; its work is
cancelled and left to finish in the background, because a driver waiting on a
frozen server may not give up at once (see SingleFlight), and it keeps its place
in the count until it has, so the pool it holds is not handed out twice over.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from dataclasses import dataclass

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from market_data_client.contract import Problem, RequestsShed

GATED_PATHS = frozenset({"/symbols", "/trades", "/candles"})
"""Routes that read the database on the request path. The stream has its own cap, the status
endpoints answer from the monitor's snapshot, `/health` touches nothing."""


@dataclass(slots=True)
class ShedCounts:
    busy: int = 0
    """Refused at once: `limit` requests were already using or waiting for the database."""
    deadline: int = 0
    """Answered 503 at the deadline: the database did not answer in time."""

    def response(self) -> RequestsShed:
        return RequestsShed(busy=self.busy, deadline=self.deadline)


class DatabaseGate:
    """ASGI wrapper: bounded concurrency and a deadline for the requests to GATED_PATHS."""

    def __init__(self, app: ASGIApp, limit: int, deadline_seconds: float, counts: ShedCounts) -> None:
        self._app = app
        self._limit = limit
        self._deadline = deadline_seconds
        self.counts = counts
        self.in_flight = 0
        self.overdue = 0
        """Requests answered at the deadline whose work has not finished yet."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] not in GATED_PATHS:
            await self._app(scope, receive, send)
            return
        if self.in_flight >= self._limit:
            self.counts.busy += 1
            await _send_problem(send, "Service busy", self._busy_detail())
            return
        await self._admitted(scope, receive, send)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        abandoned = False

        async def send_unless_abandoned(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        self.in_flight += 1
        work = asyncio.ensure_future(self._counted(self._app(scope, receive, send_unless_abandoned)))
        work.add_done_callback(_retrieve)
        try:
            done, _ = await asyncio.wait({work}, timeout=self._deadline)
            if done or started:  # a response under way is never cut off mid-body
                await work
                return
        except asyncio.CancelledError:
            work.cancel()
            raise
        abandoned = True
        self.overdue += 1
        work.add_done_callback(self._overdue_done)
        work.cancel()
        self.counts.deadline += 1
        await _send_problem(
            send,
            "Database too slow",
            f"the database did not answer within the {self._deadline:g} s deadline; retry shortly",
        )

    def _busy_detail(self) -> str:
        waiting = f"{self.in_flight} requests are already using or waiting for the database"
        if self.overdue:
            waiting += f", {self.overdue} of them past their deadline (the database is slow to answer)"
        return f"the service is busy: {waiting}; retry after 1 s"

    async def _counted(self, work: Awaitable[None]) -> None:
        # Released as the work ends, in its own step: a done callback would run a loop turn later,
        # after the client may already have sent its next request on the same connection.
        try:
            await work
        finally:
            self.in_flight -= 1

    def _overdue_done(self, _: asyncio.Future[None]) -> None:
        self.overdue -= 1


def _retrieve(work: asyncio.Future[None]) -> None:
    if not work.cancelled():
        work.exception()  # read, so that asyncio does not log it; Litestar already answered for it


async def _send_problem(send: Send, title: str, detail: str, retry_after: float = 1.0) -> None:
    body = msgspec.json.encode(Problem(title=title, status=503, detail=detail, invalid_params=[]))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(math.ceil(retry_after)).encode()),
            (b"cache-control", b"no-store"),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
