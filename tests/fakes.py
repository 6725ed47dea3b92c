"""Small in-memory fakes of the ports, for use-case tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from application.ports import StoreStatistics
from domain.heartbeat import Heartbeat
from domain.trades import Trade


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


class InMemoryTradeRepository:
    def __init__(self, pending: list[Trade], store: InMemoryStore, fail_after: int | None) -> None:
        self._pending = pending
        self._store = store
        self._fail_after = fail_after

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


class FakeUnitOfWork:
    """Applies its writes to the store only on commit, like a transaction."""

    def __init__(self, store: InMemoryStore, fail_after: int | None = None) -> None:
        self._store = store
        self._pending: list[Trade] = []
        self.trades = InMemoryTradeRepository(self._pending, store, fail_after)
        self.heartbeat = InMemoryHeartbeatStore(store)
        self.symbols = InMemorySymbolRepository(store)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending.clear()

    async def commit(self) -> None:
        self._store.trades.extend(self._pending)
        self._store.next_id += len(self._pending)
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

    def next_batch(self, until: datetime) -> list[Trade]:
        return self._batches.pop(0) if self._batches else []

    def resume(self, latest: Iterable[Trade]) -> None:
        self.resumed_from = list(latest)


class FakeLeadership:
    """Leadership that a test hands out and takes away; `hold()` answers from a script, then repeats the last."""

    def __init__(self, *answers: bool) -> None:
        self._answers = list(answers) or [True]
        self.is_leader = False
        self.released = False

    async def hold(self) -> bool:
        self.is_leader = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        return self.is_leader

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

