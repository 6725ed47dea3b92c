"""CandleFeed against an in-memory change log: filtering, order, overflow, catching up after a lost connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from application.candle_feed import CandleFeed
from domain.changes import CandleChange, ChangeFilter
from domain.series import Bar

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)


def change(seq: int, symbol: str = "AAPL", interval: str = "1m") -> CandleChange:
    price = Decimal("10.00")
    bar = Bar(T0, T0 + timedelta(minutes=1), price, price, price, price, 1, 1, price, Decimal("10.000000"))
    return CandleChange(seq, symbol, interval, bar.start, bar.end, bar, False)


class InMemoryChangeLog:
    def __init__(self) -> None:
        self.changes: list[CandleChange] = []

    async def position(self) -> int:
        return self.changes[-1].seq if self.changes else 0

    async def since(self, after: int, limit: int) -> Sequence[CandleChange]:
        return [c for c in self.changes if c.seq > after][:limit]

    async def history(self, after: int, limit: int, wanted: ChangeFilter) -> Sequence[CandleChange]:
        return [c for c in self.changes if c.seq > after and wanted.wants(c)][:limit]

    async def horizon(self) -> int:
        return 0


class ScriptedNotices:
    """Each `wait` returns when told; `drop()` makes the connection fail once, as a terminated backend does."""

    def __init__(self) -> None:
        self.ring = asyncio.Event()
        self.fail_next = False
        self.opened = 0

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[ScriptedNotices]:
        self.opened += 1
        yield self

    async def wait(self, timeout: float) -> None:
        await self.ring.wait()
        self.ring.clear()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("terminated")


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


WANT_AAPL_1M = ChangeFilter(frozenset({"AAPL"}), "1m")


async def test_subscribers_get_the_changes_they_want_in_order() -> None:
    log, notices = InMemoryChangeLog(), ScriptedNotices()
    feed, stop = CandleFeed(log, notices, poll_seconds=60), asyncio.Event()
    runner = asyncio.create_task(feed.run(stop))
    await settle()
    sub = feed.subscribe(WANT_AAPL_1M)
    log.changes += [change(1), change(2, "MSFT"), change(3, interval="5m"), change(4)]
    notices.ring.set()
    await settle()
    got = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert [c.seq for c in got if c] == [1, 4]
    stop.set()
    notices.ring.set()
    await runner


async def test_a_full_queue_marks_the_subscriber_overflowed_and_others_still_get_everything() -> None:
    log, notices = InMemoryChangeLog(), ScriptedNotices()
    feed, stop = CandleFeed(log, notices, queue_size=2, poll_seconds=60), asyncio.Event()
    runner = asyncio.create_task(feed.run(stop))
    await settle()
    slow, other = feed.subscribe(WANT_AAPL_1M), feed.subscribe(ChangeFilter(frozenset({"MSFT"}), "1m"))
    log.changes += [change(i) for i in range(1, 6)] + [change(6, "MSFT")]
    notices.ring.set()
    await settle()
    assert slow.overflowed and not other.overflowed
    assert other.queue.get_nowait().seq == 6  # type: ignore[union-attr]
    stop.set()
    notices.ring.set()
    await runner


async def test_after_a_lost_connection_the_feed_catches_up_from_its_position() -> None:
    log, notices = InMemoryChangeLog(), ScriptedNotices()
    feed, stop = CandleFeed(log, notices, poll_seconds=60), asyncio.Event()
    runner = asyncio.create_task(feed.run(stop, max_backoff=0.01))
    await settle()
    sub = feed.subscribe(WANT_AAPL_1M)
    notices.fail_next = True
    notices.ring.set()  # the connection drops...
    log.changes += [change(1), change(2)]  # ...while these commit, unannounced
    await asyncio.sleep(0.5)  # the backoff, then a new connection that catches up first
    assert notices.opened == 2
    assert [sub.queue.get_nowait().seq for _ in range(2)] == [1, 2]  # type: ignore[union-attr]
    stop.set()
    notices.ring.set()
    await runner


async def test_closing_the_feed_ends_every_stream() -> None:
    feed = CandleFeed(InMemoryChangeLog(), ScriptedNotices())
    sub = feed.subscribe(WANT_AAPL_1M)
    feed.close()
    assert sub.closed and sub.queue.get_nowait() is None
    assert feed.subscribe(WANT_AAPL_1M).closed  # a stream opened while shutting down ends at once
