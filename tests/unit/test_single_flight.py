"""SingleFlight: callers share one call, give up at their deadline without cancelling it, and a stale call is replaced."""

from __future__ import annotations

import asyncio

import pytest

from application.single_flight import SingleFlight


class Gate:
    """A call that waits until the test opens the gate, counting how often it was started."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.started = 0
        self.cancelled = 0

    async def __call__(self) -> int:
        self.started += 1
        try:
            await self.opened.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self.started


async def test_concurrent_callers_share_one_call() -> None:
    gate = Gate()
    flight = SingleFlight(gate, abandon_after=60)
    waiting = [asyncio.create_task(flight(deadline=5)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.opened.set()
    assert await asyncio.gather(*waiting) == [1, 1, 1]
    assert gate.started == 1


async def test_a_caller_past_its_deadline_leaves_the_call_running_for_the_next() -> None:
    gate = Gate()
    flight = SingleFlight(gate, abandon_after=60)
    with pytest.raises(TimeoutError):
        await flight(deadline=0.01)
    with pytest.raises(TimeoutError):
        await flight(deadline=0.01)
    assert (gate.started, gate.cancelled) == (1, 0)
    gate.opened.set()
    assert await flight(deadline=5) == 1
    assert await flight(deadline=5) == 2  # a finished call is not reused: the next caller starts afresh


async def test_a_call_older_than_abandon_after_is_cancelled_and_replaced() -> None:
    gate = Gate()
    flight = SingleFlight(gate, abandon_after=0)
    with pytest.raises(TimeoutError):
        await flight(deadline=0.01)
    with pytest.raises(TimeoutError):
        await flight(deadline=0.01)
    await asyncio.sleep(0)
    assert (gate.started, gate.cancelled) == (2, 1)


async def test_a_caller_still_waiting_on_an_abandoned_call_gets_a_timeout_not_a_cancellation() -> None:
    gate = Gate()
    flight = SingleFlight(gate, abandon_after=0)
    waiting = asyncio.create_task(flight(deadline=5))
    await asyncio.sleep(0.01)  # the first call is now older than abandon_after
    with pytest.raises(TimeoutError):
        await flight(deadline=0.01)  # cancels it and starts another
    with pytest.raises(TimeoutError):
        await waiting
    assert (gate.started, gate.cancelled) == (2, 1)


async def test_the_calls_failure_reaches_the_caller() -> None:
    async def failing() -> int:
        raise ConnectionRefusedError("refused")

    with pytest.raises(ConnectionRefusedError):
        await SingleFlight(failing, abandon_after=60)(deadline=1)
