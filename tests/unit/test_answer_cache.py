"""AnswerCache: one call per key in flight, its answer shared for the TTL and no longer, on a test clock."""

from __future__ import annotations

import asyncio

import pytest

from adapters.http_client.answer_cache import AnswerCache


class SteppedClock:
    """Monotonic seconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Gate:
    """A call that waits until the test opens the gate; each call's answer is its number."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.started = 0

    async def __call__(self) -> int:
        self.started += 1
        number = self.started
        await self.opened.wait()
        return number


async def test_concurrent_callers_share_the_call_in_flight_even_past_the_ttl() -> None:
    clock, gate = SteppedClock(), Gate()
    cache: AnswerCache[str, int] = AnswerCache(1.0, clock)
    waiting = [asyncio.create_task(cache.get("/metrics", gate)) for _ in range(10)]
    await asyncio.sleep(0)  # every caller has reached the cache
    clock.now += 5  # the call is slow: still in flight, so still shared
    waiting.append(asyncio.create_task(cache.get("/metrics", gate)))
    await asyncio.sleep(0)
    gate.opened.set()
    assert await asyncio.gather(*waiting) == [1] * 11
    assert gate.started == 1


async def test_an_answer_is_kept_for_the_ttl_after_it_arrived_and_no_longer() -> None:
    clock, gate = SteppedClock(), Gate()
    gate.opened.set()
    cache: AnswerCache[str, int] = AnswerCache(1.0, clock)
    assert await cache.get("/metrics", gate) == 1
    clock.now += 0.999
    assert await cache.get("/metrics", gate) == 1
    clock.now += 0.001
    assert await cache.get("/metrics", gate) == 2
    assert gate.started == 2


async def test_keys_are_shared_separately() -> None:
    clock, gate = SteppedClock(), Gate()
    gate.opened.set()
    cache: AnswerCache[str, int] = AnswerCache(1.0, clock)
    answers = await asyncio.gather(*(cache.get(key, gate) for key in ("/a", "/b", "/a", "/b")))
    assert sorted(answers) == [1, 1, 2, 2] and answers[0] == answers[2]
    assert gate.started == 2


async def test_a_call_that_raises_is_not_kept() -> None:
    clock = SteppedClock()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    cache: AnswerCache[str, int] = AnswerCache(1.0, clock)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await cache.get("/metrics", failing)
    assert calls == 2  # the clock did not move: a kept failure would have been served again


async def test_a_cancelled_caller_does_not_cancel_the_call_the_others_wait_for() -> None:
    gate = Gate()
    cache: AnswerCache[str, int] = AnswerCache(1.0, SteppedClock())
    leaving = asyncio.create_task(cache.get("/metrics", gate))
    staying = asyncio.create_task(cache.get("/metrics", gate))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    gate.opened.set()
    assert await staying == 1
    assert leaving.cancelled() and gate.started == 1


async def test_a_ttl_of_zero_shares_nothing() -> None:
    gate = Gate()
    gate.opened.set()
    cache: AnswerCache[str, int] = AnswerCache(0, SteppedClock())
    assert sorted(await asyncio.gather(*(cache.get("/metrics", gate) for _ in range(3)))) == [1, 2, 3]
