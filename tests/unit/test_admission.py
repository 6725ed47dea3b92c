"""The database gate: a bounded number of requests in, the rest told at once; a deadline for those let in."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from adapters.http_client.answer_cache import AnswerCache
from entrypoints.http.admission import DatabaseGate, ShedCounts
from entrypoints.http.demand import Demand


class SlowApp:
    """An ASGI app that answers 200 once `release` is set (or at once when it is None)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.cancelled = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            await asyncio.sleep(0.05)  # a driver cleaning up after a cancelled query
            raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def http(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "GET"}


async def call(gate: DatabaseGate, path: str = "/candles") -> tuple[int, dict[str, Any] | None, dict[bytes, bytes]]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await gate(http(path), receive, send)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    headers = dict(start["headers"])
    parsed = msgspec.json.decode(body) if headers.get(b"content-type") == b"application/problem+json" else None
    return start["status"], parsed, headers


async def test_beyond_the_limit_a_request_is_told_at_once_that_the_service_is_busy() -> None:
    app, counts = SlowApp(), ShedCounts()
    gate = DatabaseGate(app, limit=2, deadline_seconds=5, counts=counts)
    admitted = [asyncio.create_task(call(gate)) for _ in range(2)]
    await asyncio.sleep(0.01)
    status, problem, headers = await call(gate)
    assert status == 503 and headers[b"retry-after"] == b"1"
    assert problem is not None and problem["title"] == "Service busy"
    assert "busy" in problem["detail"] and "unavailable" not in problem["detail"]
    assert (counts.busy, counts.deadline, app.started) == (1, 0, 2)
    app.release.set()
    assert [(await task)[0] for task in admitted] == [200, 200]
    assert gate.in_flight == 0
    assert (await call(gate))[0] == 200  # room again


async def test_a_request_past_its_deadline_is_answered_503_and_its_work_cancelled() -> None:
    app, counts = SlowApp(), ShedCounts()
    gate = DatabaseGate(app, limit=4, deadline_seconds=0.05, counts=counts)
    status, problem, headers = await call(gate)
    assert status == 503 and headers[b"retry-after"] == b"1"
    assert problem is not None and "did not answer within the 0.05 s deadline" in problem["detail"]
    assert counts.deadline == 1
    # The abandoned work keeps its place until it has cleaned up: the pool it holds is not free yet.
    assert gate.in_flight == 1 and gate.overdue == 1
    await asyncio.sleep(0.1)
    assert app.cancelled == 1 and gate.in_flight == 0 and gate.overdue == 0


async def test_while_abandoned_work_holds_the_places_the_busy_answer_says_the_database_is_slow() -> None:
    app, counts = SlowApp(), ShedCounts()
    gate = DatabaseGate(app, limit=1, deadline_seconds=0.01, counts=counts)
    app_cleanup = asyncio.Event()

    async def stuck(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await app_cleanup.wait()  # a frozen server: the cancellation itself waits
            raise

    gate._app = stuck
    assert (await call(gate))[0] == 503
    status, problem, _ = await call(gate)
    assert status == 503 and problem is not None and "past their deadline" in problem["detail"]
    app_cleanup.set()
    await asyncio.sleep(0.01)
    assert gate.in_flight == 0


async def test_routes_outside_the_gate_pass_straight_through() -> None:
    app, counts = SlowApp(), ShedCounts()
    app.release.set()
    gate = DatabaseGate(app, limit=1, deadline_seconds=0.01, counts=counts)
    for path in ("/health", "/status/ingestion", "/metrics", "/candles/stream"):
        assert (await call(gate, path))[0] == 200
    assert gate.in_flight == 0 and counts == ShedCounts()


async def test_a_response_under_way_at_the_deadline_is_never_cut_off() -> None:
    async def slow_body(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"late but whole"})

    gate = DatabaseGate(slow_body, limit=1, deadline_seconds=0.01, counts=ShedCounts())
    assert (await call(gate))[0] == 200


async def test_shared_answers_compute_once_per_period_for_every_caller() -> None:
    now = [0.0]
    answers: AnswerCache[str, int] = AnswerCache(1.0, now=lambda: now[0])
    calls = 0
    gate = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return calls

    waiting = [asyncio.create_task(answers.get("k", compute)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 10 and calls == 1
    now[0] = 0.9
    assert await answers.get("k", compute) == 1
    now[0] = 1.1
    assert await answers.get("k", compute) == 2


async def test_a_failed_shared_answer_is_not_kept() -> None:
    answers: AnswerCache[str, str] = AnswerCache(60)
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("down")
        return "up"

    with pytest.raises(ConnectionError):
        await answers.get("k", flaky)
    assert await answers.get("k", flaky) == "up"


def test_demand_turns_busy_above_the_threshold_and_stays_so_for_the_next_second() -> None:
    now = [100.0]
    demand = Demand(3, monotonic=lambda: now[0])
    assert [demand.busy() for _ in range(4)] == [False, False, False, True]
    now[0] = 101.5  # the second after a busy one is judged busy from its first request
    assert demand.busy() is True
    now[0] = 103.0  # a quiet second in between: calm again
    assert demand.busy() is False
