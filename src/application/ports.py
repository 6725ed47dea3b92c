"""Ports: what the use cases need from the outside world, as structural protocols."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from domain.candles import Candle, Interval
from domain.heartbeat import Heartbeat
from domain.ranges import TimeRange
from domain.series import Bar
from domain.trades import StoredTrade, Trade, TradeKey


class Clock(Protocol):
    """Tells the current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class TradeSource(Protocol):
    """Produces the trades that happened up to a moment, each trade once."""

    def next_batch(self, until: datetime) -> Sequence[Trade]: ...

    def resume(self, latest: Iterable[Trade], watermark: datetime | None) -> None:
        """Continue strictly after the watermark and after these already stored trades (one per symbol)."""


class TradeRepository(Protocol):
    """Stores and reads trades inside the unit of work's transaction."""

    async def add_many(self, trades: Sequence[Trade]) -> int: ...

    async def latest_per_symbol(self) -> list[Trade]: ...

    async def candles(
        self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[Candle]:
        """The candles of the trades in these bucket-aligned spans, computed where the trades are."""


@dataclass(frozen=True, slots=True)
class StoredCandles:
    """Stored bars with the watermark and the heartbeat, the watermark read first."""

    watermark: datetime | None
    heartbeat: Heartbeat | None
    bars: list[Bar]


class MarketReads(Protocol):
    """The hot reads of /candles and /trades: no transaction to open or end, one round trip each."""

    async def stored_candles(self, symbol: str, interval: Interval, first: datetime, end: datetime) -> StoredCandles:
        """The watermark, then the heartbeat, then the stored candles of buckets starting in `[first, end)`.

        Read in that order, a candle is never called final while staler than the watermark says.
        """

    async def trade_page(self, symbol: str, window: TimeRange, after: TradeKey | None, limit: int) -> list[StoredTrade]:
        """Up to `limit` trades of `symbol` in `window`, in (timestamp, id) order, strictly after `after`."""


class CandleRepository(Protocol):
    """Stored candles, which every trade write keeps equal to the candles of its trades, in its own transaction."""

    async def repair(self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]) -> list[Bar]:
        """The candles of the trades in these bucket-aligned spans, computed from the trades, by start.

        Those whose bucket has no stored candle are stored; a stored one is never overwritten.
        """


class WatermarkStore(Protocol):
    """The time up to which the source has delivered trades and they are committed."""

    async def get(self) -> datetime | None: ...

    async def advance(self, to: datetime) -> None:
        """Move the watermark to `to`, unless it is already later."""


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
    watermark: datetime | None = None


class StatisticsReader(Protocol):
    """Reads the heartbeat and the exact row counts in one short transaction, cheap at any table size."""

    async def read(self) -> StoreStatistics: ...


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """Whether the store answered a trivial query in time: its round trip, or why it did not."""

    healthy: bool
    latency_ms: float | None
    error: str | None


# runtime_checkable: the HTTP layer receives it as a typed dependency, which it checks with isinstance.
@runtime_checkable
class HealthProbe(Protocol):
    """Checks that the store answers, under a deadline of its own: a hung store reads as unhealthy, never as a hang."""

    async def check(self) -> DatabaseHealth: ...


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
    watermark: WatermarkStore

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


@runtime_checkable  # like HealthProbe: the HTTP layer receives it as a typed dependency
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
