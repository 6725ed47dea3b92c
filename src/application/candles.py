"""Use case: the candles of a symbol, served from stored candles, computing only what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.freshness import GetFreshness
from application.ports import Clock, StoredCandle, UnitOfWork, UnitOfWorkFactory
from domain.candles import MAX_CANDLES, BucketSpan, Candle, Interval, rollup
from domain.errors import UnknownSymbol
from domain.freshness import Freshness
from domain.ranges import TimeRange
from domain.trades import SUPPORTED_SYMBOLS

BASE = Interval.parse("1m")
"""Stored 1m candles are the building blocks of every wider interval."""
ROLLUP_LIMIT = MAX_CANDLES
"""Most 1m buckets a request rolls up; past it, wider candles come straight from trades."""


@dataclass(frozen=True, slots=True)
class CandleQuery:
    symbol: str
    interval: Interval
    window: TimeRange


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """The answer: candles by start, the buckets they cover, when it was asked, and how fresh the data is."""

    symbol: str
    span: BucketSpan
    candles: list[Candle]
    as_of: datetime
    freshness: Freshness

    def is_complete(self, candle: Candle) -> bool:
        return candle.is_complete(self.as_of)


class GetCandles:
    """Candles of every non-empty bucket starting in `[floor(start), end)`, each the TRUE candle of its bucket.

    A stored candle is served as is when it was computed after its bucket closed
    (trade writes delete stored candles they affect, so it is still true). Every
    other bucket, the still-open one included, is computed from the trades of the
    WHOLE bucket (or merged from its 1m candles) and upserted, with those 1m
    candles, unless trades of the symbol were written meanwhile.
    """

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, freshness: GetFreshness, max_candles: int = MAX_CANDLES
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._freshness = freshness
        self._max = max_candles

    async def __call__(self, query: CandleQuery) -> CandleSeries:
        if query.symbol not in SUPPORTED_SYMBOLS:
            raise UnknownSymbol(query.symbol, SUPPORTED_SYMBOLS)
        span = BucketSpan.select(query.window, query.interval, self._max)
        # Taken before reading: a candle computed now is final only if its bucket had closed by then.
        now = self._clock.now()
        async with self._uow() as uow:
            # The revision first: a write committed after this read makes the save below refuse.
            revision = await uow.trades.revision(query.symbol)
            final = _final(await uow.candles.stored(query.symbol, query.interval, span.first, span.end))
            computed, base = await _compute(uow, query.symbol, query.interval, span.missing(final))
            store = [*computed, *base]
            if store and revision is not None and await uow.candles.save(query.symbol, revision, store, now):
                await uow.commit()
        candles = sorted([*final.values(), *computed], key=lambda c: c.start)
        return CandleSeries(query.symbol, span, candles, now, await self._freshness())


async def _compute(
    uow: UnitOfWork, symbol: str, interval: Interval, missing: list[tuple[datetime, datetime]]
) -> tuple[list[Candle], list[Candle]]:
    """Candles of the missing buckets, and the base (1m) candles computed on the way, to be stored too.

    A wider bucket is the merge of its 1m candles (candles are a monoid), so stored
    1m candles are reused and only the rest comes from trades: the open day of a `1d`
    request costs its open minute, not a scan of the whole day. Past ROLLUP_LIMIT
    1m buckets the whole range is aggregated from trades directly instead.
    """
    if not missing:
        return [], []
    if not _rolls_up(interval, missing):
        return await uow.trades.candles(symbol, interval, missing), []
    stored = _final(await uow.candles.stored(symbol, BASE, missing[0][0], missing[-1][1]))
    held: list[Candle] = []
    runs: list[tuple[datetime, datetime]] = []
    for lo, hi in missing:
        part = BucketSpan(BASE, lo, hi)
        held.extend(stored[start] for start in part.starts() if start in stored)
        runs.extend(part.missing(stored))
    computed = await uow.trades.candles(symbol, BASE, runs) if runs else []
    return rollup([*held, *computed], interval), computed


def _rolls_up(interval: Interval, missing: list[tuple[datetime, datetime]]) -> bool:
    if interval.seconds <= BASE.seconds or interval.seconds % BASE.seconds:
        return False
    return (missing[-1][1] - missing[0][0]) // BASE.length <= ROLLUP_LIMIT


def _final(stored: list[StoredCandle]) -> dict[datetime, Candle]:
    """Stored candles computed after their bucket closed; the others are recomputed and overwritten."""
    return {s.candle.start: s.candle for s in stored if s.computed_at >= s.candle.end}
