"""The ingestion runner: cadence, capped backoff, recovery and stopping, without wall-clock waits."""

from __future__ import annotations

import asyncio

from application.ingestion import IngestBatch
from entrypoints.runner import IngestionRunner
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock, ListTradeSource


class ScriptedWaits:
    """Records every wait and stops the runner after a given number of them."""

    def __init__(self, stop_after: int) -> None:
        self.waits: list[float] = []
        self._stop_after = stop_after

    async def __call__(self, stop: asyncio.Event, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        if len(self.waits) >= self._stop_after:
            stop.set()


def _ingest(uow: FakeUnitOfWorkFactory) -> IngestBatch:
    return IngestBatch(ListTradeSource([]), uow, FrozenClock())


async def test_failures_are_retried_after_half_an_interval_then_once_an_interval_then_recover_at_once() -> None:
    uow = FakeUnitOfWorkFactory()
    uow.outage = 6  # resume and five batches fail, then the database is back
    waits = ScriptedWaits(stop_after=7)
    runner = IngestionRunner(_ingest(uow), interval=1.0, max_backoff=8.0, wait=waits, monotonic=lambda: 0.0)
    await runner.run(asyncio.Event())
    # However long the outage, the next attempt (the probe) is at most an interval away.
    assert waits.waits == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert runner.consecutive_failures == 0
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None and heartbeat.failed_attempts == 6
    assert heartbeat.last_error == "ConnectionError: connection refused"


async def test_a_long_interval_waits_at_most_the_configured_cap() -> None:
    uow = FakeUnitOfWorkFactory()
    uow.outage = 4
    waits = ScriptedWaits(stop_after=4)
    runner = IngestionRunner(_ingest(uow), interval=60.0, max_backoff=30.0, wait=waits, monotonic=lambda: 0.0)
    await runner.run(asyncio.Event())
    assert waits.waits == [30.0, 30.0, 30.0, 30.0]


async def test_a_stop_request_ends_the_loop_after_the_batch_in_flight() -> None:
    uow = FakeUnitOfWorkFactory()
    waits = ScriptedWaits(stop_after=3)
    runner = IngestionRunner(_ingest(uow), interval=0.5, max_backoff=8.0, wait=waits, monotonic=lambda: 0.0)
    await runner.run(asyncio.Event())
    assert waits.waits == [0.5, 0.5, 0.5]
    assert uow.store.heartbeat is not None and uow.store.heartbeat.batches_committed == 3


async def test_a_set_stop_event_means_no_batch_at_all() -> None:
    uow = FakeUnitOfWorkFactory()
    stop = asyncio.Event()
    stop.set()
    await IngestionRunner(_ingest(uow), 1.0, 8.0, wait=ScriptedWaits(1)).run(stop)
    assert uow.store.heartbeat is None
