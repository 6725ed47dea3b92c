"""Use case: the candles of a symbol, read from the candles stored with the trades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from application.ports import Clock, MarketReads, UnitOfWorkFactory
from domain.candles import INTERVALS, MAX_CANDLES, BucketSpan, Interval
from domain.errors import InvalidValue, UnknownSymbol
from domain.freshness import Freshness, assess_freshness
from domain.heartbeat import Heartbeat
from domain.local_days import DAY, LocalDays
from domain.ranges import TimeRange
from domain.series import Bar, bar_of, fill_previous, is_final, roll_into
from domain.trades import SUPPORTED_SYMBOLS

STORED_INTERVALS = frozenset(i for i in INTERVALS if i.name != "1s")
"""Intervals the store keeps with the trades; `1s` is computed from the trades on read."""


class Fill(StrEnum):
    NONE = "none"
    """Empty buckets are left out."""
    PREVIOUS = "previous"
    """Empty buckets between the first and the last candle carry the previous close, with no volume."""


@dataclass(frozen=True, slots=True)
class CandleQuery:
    symbol: str
    interval: Interval
    window: TimeRange
    zone: ZoneInfo | None = None
    """Local-day buckets in this zone (1d only); None for buckets aligned to the Unix epoch."""
    fill: Fill = Fill.NONE


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """The answer: bars by start, the buckets they cover, the watermark that decides finality, and freshness."""

    symbol: str
    interval: Interval
    zone: ZoneInfo | None
    first: datetime
    end: datetime
    bars: list[Bar]
    as_of: datetime
    watermark: datetime | None
    freshness: Freshness

    def is_complete(self, bar: Bar) -> bool:
        return is_final(bar.end, self.watermark)


class GetCandles:
    """Candles of every non-empty bucket starting in `[floor(start), end)`, each the TRUE candle of its bucket.

    Stored candles are written with the trades, in the same transaction, so the
    answer is a lookup. A bucket that has trades but no stored candle (a database
    upgraded from before, trades written with triggers disabled) is computed from
    the trades and stored: the repair path. `1s` candles are computed on read.
    Local days roll up the stored candles of the widest interval that divides them.
    """

    def __init__(
        self,
        reads: MarketReads,
        uow: UnitOfWorkFactory,
        clock: Clock,
        interval_seconds: float,
        max_candles: int = MAX_CANDLES,
    ) -> None:
        self._reads = reads
        self._uow = uow
        self._clock = clock
        self._interval_seconds = interval_seconds
        self._max = max_candles

    async def __call__(self, query: CandleQuery) -> CandleSeries:
        if query.symbol not in SUPPORTED_SYMBOLS:
            raise UnknownSymbol(query.symbol, SUPPORTED_SYMBOLS)
        buckets = self._buckets(query)
        span = (
            BucketSpan(buckets.rollup_base(), buckets.first, buckets.end) if isinstance(buckets, LocalDays) else buckets
        )
        if span.interval in STORED_INTERVALS:
            stored = await self._reads.stored_candles(query.symbol, span.interval, span.first, span.end)
            watermark, heartbeat = stored.watermark, stored.heartbeat
            bars = await self._with_repairs(query.symbol, span, stored.bars)
        else:
            watermark, heartbeat, bars = await self._computed(query.symbol, span)
        if isinstance(buckets, LocalDays):
            bars = roll_into(bars, buckets.buckets)
        if query.fill is Fill.PREVIOUS:
            bounds = buckets.buckets if isinstance(buckets, LocalDays) else buckets.bounds()
            bars = fill_previous(bars, bounds)
        now = self._clock.now()
        freshness = assess_freshness(heartbeat, now, self._interval_seconds)
        first, end = buckets.first, buckets.end
        return CandleSeries(query.symbol, query.interval, query.zone, first, end, bars, now, watermark, freshness)

    async def _with_repairs(self, symbol: str, span: BucketSpan, stored: list[Bar]) -> list[Bar]:
        """Plus the bars of buckets that have trades but no stored candle, stored on the way (the repair path)."""
        missing = span.gaps(bar.start for bar in stored)
        if not missing:
            return stored
        async with self._uow() as uow:
            repaired = await uow.candles.repair(symbol, span.interval, missing)
            await uow.commit()
        if not repaired:
            return stored
        return sorted([*stored, *repaired], key=lambda bar: bar.start)

    async def _computed(self, symbol: str, span: BucketSpan) -> tuple[datetime | None, Heartbeat | None, list[Bar]]:
        """`1s` candles, computed from the trades; the watermark read before them, as for stored ones."""
        async with self._uow() as uow:
            watermark = await uow.watermark.get()
            heartbeat = await uow.heartbeat.get()
            candles = await uow.trades.candles(symbol, span.interval, [(span.first, span.end)])
        return watermark, heartbeat, [bar_of(c) for c in candles]

    def _buckets(self, query: CandleQuery) -> BucketSpan | LocalDays:
        if query.zone is None:
            return BucketSpan.select(query.window, query.interval, self._max)
        if query.interval != DAY:
            raise InvalidValue("tz", str(query.zone), "only with interval=1d (local-day buckets); omit it otherwise")
        return LocalDays.select(query.window, query.zone, self._max)
