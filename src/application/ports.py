"""Ports: what the use cases need from the outside world, as structural protocols."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.candles import Candle, Interval, TradeKey
from domain.heartbeat import Heartbeat
from domain.ranges import TimeRange
from domain.trades import Trade


class Clock(Protocol):
    """Tells the current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class TradeSource(Protocol):
    """Produces the trades that happened up to a moment, each trade once."""

    def next_batch(self, until: datetime) -> Sequence[Trade]: ...

    def resume(self, latest: Iterable[Trade]) -> None:
        """Continue strictly after these already stored trades (one per symbol)."""


class TradeRepository(Protocol):
    """Stores and reads trades inside the unit of work's transaction."""

    async def add_many(self, trades: Sequence[Trade]) -> int: ...

    async def latest_per_symbol(self) -> list[Trade]: ...

    async def page(self, symbol: str, window: TimeRange, after: TradeKey | None, limit: int) -> list[Trade]:
        """Up to `limit` trades of `symbol` in `window`, in (timestamp, id) order, strictly after `after`."""

    async def revision(self, symbol: str) -> int | None:
        """A number that moves whenever trades of `symbol` are written; None if none ever were."""

    async def candles(self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]) -> list[Candle]:
        """The candles of the trades in these bucket-aligned spans, computed where the trades are."""


@dataclass(frozen=True, slots=True)
class StoredCandle:
    """A candle as stored, with the moment it was computed (before or after its bucket closed)."""

    candle: Candle
    computed_at: datetime


class CandleRepository(Protocol):
    """Stored candles: a cache of the true candle of each bucket, invalidated by trade writes."""

    async def stored(self, symbol: str, interval: Interval, first: datetime, end: datetime) -> list[StoredCandle]:
        """Stored candles of buckets starting in `[first, end)`, by start."""

    async def save(self, symbol: str, revision: int, candles: Sequence[Candle], computed_at: datetime) -> bool:
        """Upsert the candles unless trades of `symbol` moved past `revision`; False when not stored."""


class HeartbeatStore(Protocol):
    """Keeps the ingestion heartbeat in the shared store so every process reads the same."""

    async def get(self) -> Heartbeat | None: ...

    async def put(self, heartbeat: Heartbeat) -> None: ...


@dataclass(frozen=True, slots=True)
class StoreStatistics:
    """What the store says about itself: the heartbeat and exact row counts."""

    heartbeat: Heartbeat | None
    trades: int
    candles: int


class StatisticsReader(Protocol):
    """Reads the heartbeat and the exact row counts in one short transaction, cheap at any table size."""

    async def read(self) -> StoreStatistics: ...


class SymbolRepository(Protocol):
    """The supported symbol universe."""

    async def ensure(self, symbols: Sequence[str]) -> None: ...

    async def list(self) -> list[str]: ...


class UnitOfWork(Protocol):
    """One transaction: rolls back on exit unless `commit()` was called."""

    trades: TradeRepository
    heartbeat: HeartbeatStore
    symbols: SymbolRepository
    candles: CandleRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a fresh unit of work."""

    def __call__(self) -> UnitOfWork: ...


class Leadership(Protocol):
    """Who may ingest: at most one process across all replicas holds it at any moment."""

    @property
    def is_leader(self) -> bool: ...

    async def hold(self) -> bool:
        """Take leadership if free, or confirm it is still ours; False while another process leads.

        Raises when the store cannot be reached; this process then holds nothing.
        """

    async def release(self) -> None:
        """Give leadership up so another process can take over at once."""


class LeadershipLost(Exception):
    """A write was refused because this process does not (or no longer) hold leadership."""
