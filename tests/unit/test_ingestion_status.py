"""GetIngestionStatus: live figures when the store answers, the last known ones within the deadline when it does not."""

from __future__ import annotations

from datetime import timedelta

from application.ingestion_status import FiguresSource, GetIngestionStatus
from application.ports import StoreStatistics
from domain.freshness import IngestionStatus
from domain.heartbeat import Heartbeat
from tests.fakes import FakeStatisticsReader, FrozenClock

INTERVAL = 1.0


def make(clock: FrozenClock) -> tuple[GetIngestionStatus, FakeStatisticsReader]:
    heartbeat = Heartbeat(clock.now() - timedelta(seconds=0.5), clock.now(), 7, 70, 10, 12.5)
    reader = FakeStatisticsReader(StoreStatistics(heartbeat, trades=70, candles=3))
    return GetIngestionStatus(reader, clock, INTERVAL, deadline_seconds=0.05), reader


async def test_live_figures_when_the_store_answers() -> None:
    clock = FrozenClock()
    get_status, _ = make(clock)
    report = await get_status()
    assert report.source is FiguresSource.LIVE
    assert report.store_error is None
    assert report.freshness.status is IngestionStatus.ALIVE
    assert report.statistics is not None and report.statistics.trades == 70
    assert report.read_at == clock.now()


async def test_a_failing_store_gives_the_last_known_figures_and_says_so() -> None:
    clock = FrozenClock()
    get_status, reader = make(clock)
    first = await get_status()
    reader.failure = ConnectionRefusedError("connection refused")
    clock.advance(1)
    report = await get_status()
    assert report.source is FiguresSource.LAST_KNOWN
    assert report.store_error == "ConnectionRefusedError: connection refused"
    assert report.statistics == first.statistics
    assert report.read_at == first.read_at


async def test_the_status_from_last_known_figures_still_dies_past_the_threshold() -> None:
    clock = FrozenClock()
    get_status, reader = make(clock)
    await get_status()
    reader.failure = OSError("down")
    clock.advance(2.5)  # heartbeat now 3.0 s old: exactly the threshold, still alive
    assert (await get_status()).freshness.status is IngestionStatus.ALIVE
    clock.advance(0.001)
    assert (await get_status()).freshness.status is IngestionStatus.DEAD


async def test_a_hanging_store_is_cut_off_at_the_deadline() -> None:
    clock = FrozenClock()
    get_status, reader = make(clock)
    reader.hang = True
    report = await get_status()
    assert report.source is FiguresSource.NONE
    assert report.store_error == "no answer within 0.05s"
    assert report.statistics is None
    assert report.freshness.status is IngestionStatus.DEAD


async def test_figures_recover_when_the_store_answers_again() -> None:
    clock = FrozenClock()
    get_status, reader = make(clock)
    reader.failure = OSError("down")
    assert (await get_status()).source is FiguresSource.NONE
    reader.failure = None
    report = await get_status()
    assert report.source is FiguresSource.LIVE
    assert report.freshness.status is IngestionStatus.ALIVE
