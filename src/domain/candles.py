"""Candles: exact OHLCV of one symbol per epoch-aligned interval, aggregated from trades."""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from functools import reduce
from itertools import groupby
from typing import overload

from domain.errors import InvalidValue, MismatchedCandles, TooManyCandles
from domain.ranges import TimeRange, from_micros, to_micros
from domain.trades import TICK, Trade, TradeKey, check_price, check_symbol, check_utc, trade_key

VWAP_SCALE = 6
"""VWAP decimal places: computed exactly, then rounded once, half up."""
MAX_CANDLES = 10_000
"""Most candles one request may return."""

_INTERVAL_SECONDS = {"1s": 1, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14_400, "1d": 86_400}
INTERVAL_NAMES: tuple[str, ...] = tuple(_INTERVAL_SECONDS)

# Sums of many large notionals outgrow the default 28 digits; this context is
# wide enough for any realistic sum and raises rather than round if it ever is not.
EXACT = Context(prec=200, traps=[Inexact, Rounded, InvalidOperation])


@dataclass(frozen=True, slots=True)
class Interval:
    """A supported candle width, such as `1m` (60 s) or `1d` (86,400 s)."""

    name: str
    seconds: int

    def __post_init__(self) -> None:
        if _INTERVAL_SECONDS.get(self.name) != self.seconds:
            raise InvalidValue("interval", self.name, f"one of {', '.join(INTERVAL_NAMES)}")

    @classmethod
    def parse(cls, name: str) -> Interval:
        """The interval called `name`; anything else raises, listing the allowed names."""
        if name not in _INTERVAL_SECONDS:
            raise InvalidValue("interval", name, f"one of {', '.join(INTERVAL_NAMES)}")
        return cls(name, _INTERVAL_SECONDS[name])

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def micros(self) -> int:
        return self.seconds * 1_000_000


INTERVALS: tuple[Interval, ...] = tuple(Interval.parse(name) for name in INTERVAL_NAMES)
LONGEST_INTERVAL = max(INTERVALS, key=lambda i: i.seconds)
_TICKS = TICK.as_integer_ratio()[1]


def bucket_start(moment: datetime, interval: Interval) -> datetime:
    """The start of the bucket that holds `moment`.

    Buckets are half-open, `[start, start + interval)`, labelled by their start,
    and aligned to the Unix epoch in UTC: a `5m` bucket starts at a multiple of
    300 seconds since 1970-01-01T00:00:00Z, a `1d` bucket at UTC midnight.
    """
    micros = to_micros(check_utc("moment", moment))
    return from_micros(micros - micros % interval.micros)


def vwap(notional: Decimal, volume: int, scale: int = VWAP_SCALE) -> Decimal:
    """sum(price * volume) / sum(volume), exact, then rounded ONCE half up to `scale` places."""
    numerator, denominator = notional.as_integer_ratio()
    denominator *= volume
    # Integer arithmetic: no intermediate rounding by a decimal context.
    quotient, remainder = divmod(numerator * 10**scale, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return Decimal(f"{quotient}e-{scale}")


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV of one symbol over one bucket `[start, start + interval)`; never empty.

    With `None` as identity, `merge` makes the candles of one bucket a monoid.
    """

    symbol: str
    interval: Interval
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trade_count: int
    notional: Decimal
    """sum(price * volume), exact: what lets candles merge without losing the VWAP."""
    first: TradeKey
    """The key of the opening trade: what lets candles of out-of-order trades merge exactly."""
    last: TradeKey
    """The key of the closing trade."""

    def __post_init__(self) -> None:
        check_symbol(self.symbol)
        if not isinstance(self.interval, Interval):
            raise InvalidValue("interval", self.interval, "an Interval")
        if bucket_start(self.start, self.interval) != self.start:
            raise InvalidValue("start", self.start, f"a {self.interval.name} bucket start aligned to the Unix epoch")
        _check_prices(self.open, self.high, self.low, self.close)
        _check_counts(self.volume, self.trade_count, self.notional, self.low, self.high)
        _check_keys(self.first, self.last, self.start, self.end)

    @property
    def end(self) -> datetime:
        """The first instant after the bucket."""
        return self.start + self.interval.length

    @property
    def vwap(self) -> Decimal:
        return vwap(self.notional, self.volume)

    def within(self, interval: Interval) -> Candle:
        """The same trades as a candle of the wider `interval`'s bucket that holds this one."""
        if interval.seconds % self.interval.seconds:
            raise InvalidValue("interval", interval.name, "a multiple of the interval of the candles rolled up")
        return replace(self, interval=interval, start=bucket_start(self.start, interval))


def summarize(trade: Trade, interval: Interval) -> Candle:
    """The candle of one trade, in its bucket of `interval`."""
    key, p = trade_key(trade), trade.price
    start = bucket_start(trade.ts, interval)
    return Candle(trade.symbol, interval, start, p, p, p, p, trade.volume, 1, EXACT.multiply(p, trade.volume), key, key)


@overload
def merge(a: Candle, b: Candle | None) -> Candle: ...
@overload
def merge(a: Candle | None, b: Candle) -> Candle: ...
@overload
def merge(a: None, b: None) -> None: ...
def merge(a: Candle | None, b: Candle | None) -> Candle | None:
    """Two candles of one bucket as if their trades had been aggregated together (associative, commutative).

    `None` is the identity; candles of different symbols or buckets raise `MismatchedCandles`.
    """
    if a is None or b is None:
        return a if b is None else b
    if (a.symbol, a.interval, a.start) != (b.symbol, b.interval, b.start):
        raise MismatchedCandles((a.symbol, a.interval.name, a.start), (b.symbol, b.interval.name, b.start))
    first, last = min(a, b, key=lambda c: c.first), max(a, b, key=lambda c: c.last)
    return Candle(
        a.symbol,
        a.interval,
        a.start,
        open=first.open,
        high=max(a.high, b.high),
        low=min(a.low, b.low),
        close=last.close,
        volume=a.volume + b.volume,
        trade_count=a.trade_count + b.trade_count,
        notional=EXACT.add(a.notional, b.notional),
        first=first.first,
        last=last.last,
    )


def candles_of(trades: Iterable[Trade], interval: Interval) -> list[Candle]:
    """The candles of the trades, one per non-empty bucket, ordered by (symbol, start)."""
    return _merged(summarize(trade, interval) for trade in trades)


def rollup(candles: Iterable[Candle], interval: Interval) -> list[Candle]:
    """Candles of a wider interval from narrower ones, each moved into its wider bucket and merged there."""
    return _merged(candle.within(interval) for candle in candles)


def _merged(candles: Iterable[Candle]) -> list[Candle]:
    """The merge of the candles of each (symbol, bucket), ordered by (symbol, start)."""

    def bucket(candle: Candle) -> tuple[str, datetime]:
        return (candle.symbol, candle.start)

    return [reduce(merge, group) for _, group in groupby(sorted(candles, key=bucket), key=bucket)]


@dataclass(frozen=True, slots=True)
class BucketSpan:
    """The buckets a request selects: those whose start lies in `[bucket_start(start), end)`."""

    interval: Interval
    first: datetime
    end: datetime
    """End of the last selected bucket: the trades of `[first, end)` make the candles."""

    @classmethod
    def select(cls, window: TimeRange, interval: Interval, maximum: int = MAX_CANDLES) -> BucketSpan:
        """The buckets of `window`; raises TooManyCandles past `maximum` of them."""
        first = bucket_start(window.start, interval)
        last = bucket_start(window.end - timedelta(microseconds=1), interval)
        span = cls(interval, first, last + interval.length)
        if span.count > maximum:
            raise TooManyCandles(span.count, maximum)
        return span

    @property
    def count(self) -> int:
        return (to_micros(self.end) - to_micros(self.first)) // self.interval.micros

    def starts(self) -> Iterator[datetime]:
        step = self.interval.length
        return (self.first + i * step for i in range(self.count))

    def bounds(self) -> Iterator[tuple[datetime, datetime]]:
        step = self.interval.length
        return ((start, start + step) for start in self.starts())

    def gaps(self, present: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
        """Maximal runs `[lo, hi)` of buckets between the ORDERED starts `present` (each a bucket of the span).

        What `missing` gives, in one pass over what is there rather than over every bucket.
        """
        runs: list[tuple[datetime, datetime]] = []
        step, cursor = self.interval.length, self.first
        for start in present:
            if start > cursor:
                runs.append((cursor, start))
            cursor = start + step
        if cursor < self.end:
            runs.append((cursor, self.end))
        return runs

    def missing(self, have: Container[datetime]) -> list[tuple[datetime, datetime]]:
        """Maximal runs `[lo, hi)` of buckets whose start is not in `have` (a set or mapping), in order."""
        runs: list[tuple[datetime, datetime]] = []
        for start in self.starts():
            if start in have:
                continue
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], start + self.interval.length)
            else:
                runs.append((start, start + self.interval.length))
        return runs


def _check_prices(open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> None:
    for field, price in (("open", open_), ("high", high), ("low", low), ("close", close)):
        check_price(field, price)
    if not low <= min(open_, close):
        raise InvalidValue("low", low, f"at most open {open_} and close {close}")
    if not high >= max(open_, close):
        raise InvalidValue("high", high, f"at least open {open_}, close {close} and low {low}")


def _check_counts(volume: int, trade_count: int, notional: Decimal, low: Decimal, high: Decimal) -> None:
    if isinstance(trade_count, bool) or not isinstance(trade_count, int) or trade_count <= 0:
        raise InvalidValue("trade_count", trade_count, "a positive integer")
    # Every trade has a volume of at least 1.
    if isinstance(volume, bool) or not isinstance(volume, int) or volume < trade_count:
        raise InvalidValue("volume", volume, f"an integer of at least trade_count {trade_count}")
    if not isinstance(notional, Decimal) or not notional.is_finite() or _TICKS % notional.as_integer_ratio()[1]:
        raise InvalidValue("notional", notional, f"an exact Decimal on the tick {TICK}")
    # The VWAP is an average of prices, so it lies between the extremes.
    if not EXACT.multiply(low, volume) <= notional <= EXACT.multiply(high, volume):
        raise InvalidValue("notional", notional, f"between low * volume and high * volume ({volume})")


def _check_keys(first: TradeKey, last: TradeKey, start: datetime, end: datetime) -> None:
    if not first <= last:
        raise InvalidValue("first", first, f"a trade key no later than the last one {last}")
    for field, key in (("first", first), ("last", last)):
        if not start <= key[0] < end:
            raise InvalidValue(field, key, f"the key of a trade in the bucket [{start}, {end})")
