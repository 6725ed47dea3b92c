"""The ingestion runner under leadership: a follower writes nothing, a new leader resumes after what is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from application.ingestion import IngestBatch
from domain.trades import Trade
from entrypoints.runner import IngestionRunner
from tests.fakes import FakeLeadership, FakeUnitOfWorkFactory, FrozenClock, ListTradeSource


class CountedWaits:
    """Records the waits and stops the runner after a given number of them, without waiting."""

    def __init__(self, stop_after: int) -> None:
        self.waits: list[float] = []
        self._stop_after = stop_after

    async def __call__(self, stop: asyncio.Event, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self._stop_after:
            stop.set()


def _batch(clock: FrozenClock) -> list[Trade]:
    return [Trade("AAPL", clock.now() - timedelta(milliseconds=1), Decimal("190.00"), 1)]


async def _run(
    leadership: FakeLeadership, waits: int, batches: int = 10
) -> tuple[FakeUnitOfWorkFactory, ListTradeSource]:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    source = ListTradeSource([_batch(clock) for _ in range(batches)])
    runner = IngestionRunner(
        IngestBatch(source, uow, clock),
        1.0,
        8.0,
        wait=CountedWaits(waits),
        monotonic=lambda: 0.0,
        leadership=leadership,
    )
    await runner.run(asyncio.Event())
    return uow, source


async def test_a_follower_writes_nothing() -> None:
    uow, source = await _run(FakeLeadership(False), waits=5)
    assert uow.store.trades == []
    assert uow.opened == []
    assert source.resumed_from is None


async def test_a_new_leader_resumes_before_its_first_batch() -> None:
    uow, source = await _run(FakeLeadership(False, False, True), waits=4)
    assert source.resumed_from == []
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None and heartbeat.batches_committed == 2


class ResumeCountingSource(ListTradeSource):
    """Notes how many trades were stored each time the runner resumed."""

    def __init__(self, uow: FakeUnitOfWorkFactory, clock: FrozenClock) -> None:
        super().__init__([_batch(clock) for _ in range(10)])
        self._uow = uow
        self.stored_at_resume: list[int] = []

    def resume(self, latest: Iterable[Trade], watermark: datetime | None) -> None:
        self.stored_at_resume.append(len(self._uow.store.trades))
        super().resume(latest, watermark)


async def test_losing_and_regaining_leadership_resumes_again() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    source = ResumeCountingSource(uow, clock)
    leadership = FakeLeadership(True, True, False, True, True)
    runner = IngestionRunner(
        IngestBatch(source, uow, clock), 1.0, 8.0, wait=CountedWaits(5), monotonic=lambda: 0.0, leadership=leadership
    )
    await runner.run(asyncio.Event())
    assert source.stored_at_resume == [0, 2], "resumed on first leading, and again after regaining it"
    assert len(uow.store.trades) == 4


async def test_an_unreachable_store_is_a_failed_attempt_with_backoff_then_a_follower_recovers() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    down = ConnectionError("connection refused")
    leadership = FakeLeadership(True, down, down, down, False, True)
    waits = CountedWaits(7)
    runner = IngestionRunner(
        IngestBatch(ListTradeSource([_batch(clock) for _ in range(5)]), uow, clock),
        1.0,
        8.0,
        wait=waits,
        monotonic=lambda: 0.0,
        leadership=leadership,
    )
    await runner.run(asyncio.Event())
    assert waits.waits == [1.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]  # half an interval, then once an interval
    assert runner.consecutive_failures == 0
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None and heartbeat.batches_committed == 3
    assert heartbeat.failed_attempts == 3, "the outage is reported by the next batch this process commits"
