"""Small in-memory fakes of the ports, for use-case tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from application.candles import STORED_INTERVALS
from application.ports import StoredCandles, StoreStatistics
from domain.candles import Candle, Interval, bucket_start, candles_of
from domain.heartbeat import Heartbeat
from domain.ranges import TimeRange
from domain.series import Bar, bar_of
from domain.trades import StoredTrade, Trade, TradeKey, trade_key


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class InMemoryStore:
    """What the fake database holds; shared by every fake unit of work."""

    trades: list[Trade] = field(default_factory=list)
    heartbeat: Heartbeat | None = None
    symbols: list[str] = field(default_factory=list)
    next_id: int = 1
    candles: dict[tuple[str, str, datetime], Candle] = field(default_factory=dict)
    watermark: datetime | None = None
    maintain_candles: bool = True
    """False writes trades as with the database's candle triggers disabled."""

    def add_trades(self, trades: Sequence[Trade]) -> None:
        """Commit trades as the database does: the stored candle of every bucket they touch is recomputed."""
        self.trades.extend(trades)
        if not self.maintain_candles:
            return
        for interval in STORED_INTERVALS:
            touched = {(t.symbol, bucket_start(t.ts, interval)) for t in trades}
            for symbol, start in touched:
                inside = [t for t in self.trades if t.symbol == symbol and bucket_start(t.ts, interval) == start]
                self.candles[(symbol, interval.name, start)] = candles_of(inside, interval)[0]


class InMemoryTradeRepository:
    def __init__(self, pending: list[Trade], store: InMemoryStore, fail_after: int | None) -> None:
        self._pending = pending
        self._store = store
        self._fail_after = fail_after
        self.aggregated_spans: list[list[tuple[datetime, datetime]]] = []

    async def add_many(self, trades: Sequence[Trade]) -> int:
        for index, trade in enumerate(trades):
            if self._fail_after is not None and index == self._fail_after:
                raise ConnectionError("injected failure mid-batch")
            self._pending.append(replace(trade, id=self._store.next_id + len(self._pending)))
        return len(trades)

    async def latest_per_symbol(self) -> list[Trade]:
        latest: dict[str, Trade] = {}
        for trade in self._store.trades:
            if trade.symbol not in latest or (trade.ts, trade.id or 0) > (
                latest[trade.symbol].ts,
                latest[trade.symbol].id or 0,
            ):
                latest[trade.symbol] = trade
        return list(latest.values())

    async def candles(
        self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[Candle]:
        self.aggregated_spans.append(list(spans))
        inside = [t for t in self._store.trades if t.symbol == symbol and any(lo <= t.ts < hi for lo, hi in spans)]
        return candles_of(inside, interval)


class InMemoryCandleRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending: dict[tuple[str, str, datetime], Candle] = {}
        self.repaired_spans: list[list[tuple[datetime, datetime]]] = []

    async def repair(self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]) -> list[Bar]:
        self.repaired_spans.append(list(spans))
        inside = [t for t in self._store.trades if t.symbol == symbol and any(lo <= t.ts < hi for lo, hi in spans)]
        computed = candles_of(inside, interval)
        for c in computed:
            self.pending.setdefault((c.symbol, c.interval.name, c.start), c)
        return [bar_of(c) for c in computed]


class InMemoryWatermarkStore:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending: datetime | None = None

    async def get(self) -> datetime | None:
        return self.pending or self._store.watermark

    async def advance(self, to: datetime) -> None:
        current = await self.get()
        self.pending = to if current is None else max(current, to)


class InMemoryHeartbeatStore:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending: Heartbeat | None = None

    async def get(self) -> Heartbeat | None:
        return self.pending or self._store.heartbeat

    async def put(self, heartbeat: Heartbeat) -> None:
        self.pending = heartbeat


class InMemorySymbolRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending: list[str] = []

    async def ensure(self, symbols: Sequence[str]) -> None:
        self.pending.extend(s for s in symbols if s not in self._store.symbols and s not in self.pending)

    async def list(self) -> list[str]:
        return sorted(self._store.symbols + self.pending)


class InMemoryMarketReads:
    """The hot reads, from the store as committed (they run outside any unit of work)."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.reads = 0

    async def stored_candles(self, symbol: str, interval: Interval, first: datetime, end: datetime) -> StoredCandles:
        self.reads += 1
        watermark = await InMemoryWatermarkStore(self._store).get()
        heartbeat = await InMemoryHeartbeatStore(self._store).get()
        found = [
            c
            for (sym, name, start), c in self._store.candles.items()
            if sym == symbol and name == interval.name and first <= start < end
        ]
        return StoredCandles(watermark, heartbeat, [bar_of(c) for c in sorted(found, key=lambda c: c.start)])

    async def trade_page(self, symbol: str, window: TimeRange, after: TradeKey | None, limit: int) -> list[StoredTrade]:
        self.reads += 1
        found = [
            StoredTrade(t.symbol, t.ts, t.price, t.volume, t.id or 0)
            for t in self._store.trades
            if t.symbol == symbol and window.start <= t.ts < window.end and (after is None or trade_key(t) > after)
        ]
        return sorted(found, key=trade_key)[:limit]


class FakeUnitOfWork:
    """Applies its writes to the store only on commit, like a transaction."""

    def __init__(self, store: InMemoryStore, fail_after: int | None = None) -> None:
        self._store = store
        self._pending: list[Trade] = []
        self.trades = InMemoryTradeRepository(self._pending, store, fail_after)
        self.heartbeat = InMemoryHeartbeatStore(store)
        self.symbols = InMemorySymbolRepository(store)
        self.candles = InMemoryCandleRepository(store)
        self.watermark = InMemoryWatermarkStore(store)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending.clear()

    async def commit(self) -> None:
        self._store.add_trades(self._pending)
        self._store.next_id += len(self._pending)
        for key, candle in self.candles.pending.items():
            self._store.candles.setdefault(key, candle)
        if self.watermark.pending is not None:
            self._store.watermark = self.watermark.pending
        if self.heartbeat.pending is not None:
            self._store.heartbeat = self.heartbeat.pending
        self._store.symbols.extend(self.symbols.pending)
        self.committed = True


class FakeUnitOfWorkFactory:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()
        self.fail_after: int | None = None
        self.outage = 0
        """How many of the next units of work fail to open, as while the database is down."""
        self.opened: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        if self.outage > 0:
            self.outage -= 1
            raise ConnectionError("connection refused")
        uow = FakeUnitOfWork(self.store, self.fail_after)
        self.opened.append(uow)
        return uow


class ListTradeSource:
    """A trade source that hands out prepared batches, one per call."""

    def __init__(self, batches: Iterable[Sequence[Trade]]) -> None:
        self._batches = [list(b) for b in batches]
        self.resumed_from: list[Trade] | None = None
        self.resumed_after: datetime | None = None

    def next_batch(self, until: datetime) -> list[Trade]:
        return self._batches.pop(0) if self._batches else []

    def resume(self, latest: Iterable[Trade], watermark: datetime | None) -> None:
        self.resumed_from = list(latest)
        self.resumed_after = watermark


class FakeLeadership:
    """Leadership that a test hands out and takes away.

    `hold()` answers from a script and then repeats the last answer; an exception
    in the script is raised, as when the store cannot be reached.
    """

    def __init__(self, *answers: bool | Exception) -> None:
        self._answers = list(answers) or [True]
        self.is_leader = False
        self.released = False

    async def hold(self) -> bool:
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            self.is_leader = False
            raise answer
        self.is_leader = answer
        return answer

    async def release(self) -> None:
        self.is_leader = False
        self.released = True


class FakeStatisticsReader:
    """Answers with `statistics`, or raises `failure`, or never answers while `hang` is set."""

    def __init__(self, statistics: StoreStatistics) -> None:
        self.statistics = statistics
        self.failure: Exception | None = None
        self.hang = False

    async def read(self) -> StoreStatistics:
        if self.hang:
            await asyncio.Event().wait()
        if self.failure is not None:
            raise self.failure
        return self.statistics
