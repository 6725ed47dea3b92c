"""Ingest one batch: generate, write atomically with the heartbeat, or write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.failures import describe
from application.ports import Clock, TradeSource, UnitOfWorkFactory
from domain.heartbeat import Heartbeat
from domain.trades import Trade


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What one committed batch did."""

    trades: int
    committed_at: datetime
    duration_ms: float


@dataclass(slots=True)
class _PendingFailures:
    count: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


class IngestBatch:
    """Writes the source's next batch, the watermark and the heartbeat in ONE transaction.

    The store folds the trades into the stored candles in that same transaction.

    A batch whose transaction fails is dropped whole: nothing of it is stored, the
    heartbeat does not move, and the failure is recorded with the next batch that
    commits (the store may be down when it happens).
    """

    def __init__(self, source: TradeSource, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._source = source
        self._uow = uow
        self._clock = clock
        self._failures = _PendingFailures()

    def record_failure(self, error: BaseException) -> None:
        """Remember a failed attempt so the next committed heartbeat reports it."""
        self._failures.count += 1
        self._failures.last_error = describe(error, limit=500)
        self._failures.last_error_at = self._clock.now()

    async def resume(self) -> None:
        """Continue strictly after the watermark and the stored trades: nothing is ever written behind it."""
        async with self._uow() as uow:
            self._source.resume(await uow.trades.latest_per_symbol(), await uow.watermark.get())

    async def __call__(self) -> BatchReport:
        started = self._clock.now()
        trades = self._source.next_batch(started)
        async with self._uow() as uow:
            await uow.trades.add_many(trades)
            # The source has delivered everything up to `started`: buckets ending by then are final.
            await uow.watermark.advance(started)
            previous = await uow.heartbeat.get()
            committed_at = self._clock.now()
            duration_ms = (committed_at - started).total_seconds() * 1000
            await uow.heartbeat.put(_next_heartbeat(previous, trades, committed_at, duration_ms, self._failures))
            await uow.commit()
        self._failures = _PendingFailures(0, self._failures.last_error, self._failures.last_error_at)
        return BatchReport(len(trades), committed_at, duration_ms)


def _next_heartbeat(
    previous: Heartbeat | None,
    batch: Sequence[Trade],
    at: datetime,
    duration_ms: float,
    failures: _PendingFailures,
) -> Heartbeat:
    last_trade_at = max((t.ts for t in batch), default=None)
    if previous is None:
        previous = Heartbeat(at, None, 0, 0, 0, 0.0)
    if last_trade_at is None or (previous.last_trade_at and previous.last_trade_at > last_trade_at):
        last_trade_at = previous.last_trade_at
    return Heartbeat(
        beat_at=at,
        last_trade_at=last_trade_at,
        batches_committed=previous.batches_committed + 1,
        trades_ingested=previous.trades_ingested + len(batch),
        last_batch_trades=len(batch),
        last_batch_duration_ms=duration_ms,
        failed_attempts=previous.failed_attempts + failures.count,
        last_error=failures.last_error or previous.last_error,
        last_error_at=failures.last_error_at or previous.last_error_at,
    )
