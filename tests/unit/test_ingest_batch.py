"""IngestBatch against in-memory fakes: all of a batch and its heartbeat, or nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from application.ingestion import IngestBatch
from domain.trades import Trade
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock, ListTradeSource


def _trades(clock: FrozenClock, n: int, symbol: str = "AAPL") -> list[Trade]:
    return [Trade(symbol, clock.now() - timedelta(milliseconds=n - i), Decimal("100.01"), 1 + i) for i in range(n)]


async def test_a_batch_is_stored_with_its_heartbeat_in_one_commit() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    batch = _trades(clock, 4)
    report = await IngestBatch(ListTradeSource([batch]), uow, clock)()
    assert report.trades == 4
    assert [t.price for t in uow.store.trades] == [t.price for t in batch]
    assert uow.opened[-1].committed
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None
    assert heartbeat.beat_at == clock.now()
    assert heartbeat.last_trade_at == batch[-1].ts
    assert (heartbeat.batches_committed, heartbeat.trades_ingested, heartbeat.last_batch_trades) == (1, 4, 4)


async def test_a_failure_mid_batch_stores_nothing_and_the_heartbeat_stays() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    ingest = IngestBatch(ListTradeSource([_trades(clock, 3), _trades(clock, 5)]), uow, clock)
    await ingest()
    before = uow.store.heartbeat
    uow.fail_after = 2
    clock.advance(1)
    with pytest.raises(ConnectionError):
        await ingest()
    assert len(uow.store.trades) == 3
    assert uow.store.heartbeat == before
    assert not uow.opened[-1].committed


async def test_failures_are_reported_by_the_next_committed_heartbeat() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    ingest = IngestBatch(ListTradeSource([_trades(clock, 2), _trades(clock, 2)]), uow, clock)
    uow.fail_after = 0
    with pytest.raises(ConnectionError):
        await ingest()
    ingest.record_failure(ConnectionError("database is down"))
    failed_at = clock.now()
    uow.fail_after = None
    clock.advance(2)
    await ingest()
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None
    assert heartbeat.failed_attempts == 1
    assert heartbeat.last_error == "ConnectionError: database is down"
    assert heartbeat.last_error_at == failed_at
    assert heartbeat.batches_committed == 1


async def test_an_empty_batch_still_beats_and_keeps_the_last_trade_time() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    first = _trades(clock, 2)
    ingest = IngestBatch(ListTradeSource([first, []]), uow, clock)
    await ingest()
    clock.advance(1)
    await ingest()
    heartbeat = uow.store.heartbeat
    assert heartbeat is not None
    assert heartbeat.beat_at == clock.now()
    assert heartbeat.last_trade_at == first[-1].ts
    assert heartbeat.batches_committed == 2


async def test_resume_hands_the_source_the_latest_stored_trade_per_symbol() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    source = ListTradeSource([_trades(clock, 3, "AAPL") + _trades(clock, 2, "MSFT")])
    ingest = IngestBatch(source, uow, clock)
    await ingest()
    await ingest.resume()
    assert source.resumed_from is not None
    latest = {t.symbol: t for t in source.resumed_from}
    assert latest["AAPL"].volume == 3 and latest["MSFT"].volume == 2


async def test_the_recorded_error_is_one_line() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    ingest = IngestBatch(ListTradeSource([[]]), uow, clock)
    ingest.record_failure(ConnectionError("connection refused\n(Background on this error at: https://example)"))
    await ingest()
    assert uow.store.heartbeat is not None
    assert uow.store.heartbeat.last_error == "ConnectionError: connection refused"


async def test_each_batch_moves_the_watermark_to_the_time_it_was_generated_up_to() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    ingest = IngestBatch(ListTradeSource([_trades(clock, 2), []]), uow, clock)
    await ingest()
    assert uow.store.watermark == clock.now()
    clock.advance(1.5)
    await ingest()  # an empty batch: the source delivered nothing up to now, which is final too
    assert uow.store.watermark == clock.now()


async def test_a_failed_batch_leaves_the_watermark_where_it_was() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    ingest = IngestBatch(ListTradeSource([_trades(clock, 2), _trades(clock, 3)]), uow, clock)
    await ingest()
    before = uow.store.watermark
    clock.advance(1)
    uow.fail_after = 1
    with pytest.raises(ConnectionError):
        await ingest()
    assert uow.store.watermark == before


async def test_resume_hands_the_source_the_stored_watermark() -> None:
    clock, uow = FrozenClock(), FakeUnitOfWorkFactory()
    source = ListTradeSource([_trades(clock, 1)])
    ingest = IngestBatch(source, uow, clock)
    await ingest()
    await ingest.resume()
    assert source.resumed_after == clock.now()
