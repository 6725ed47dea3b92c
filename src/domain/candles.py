"""Candles: exact OHLCV of one symbol per epoch-aligned interval, aggregated from trades."""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from functools import reduce
from itertools import groupby

from domain.errors import InvalidValue, TooManyCandles
from domain.ranges import TimeRange, from_micros, to_micros
from domain.trades import TICK, Trade, check_price, check_symbol, check_utc

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


TradeKey = tuple[datetime, int]
"""(timestamp, trade id): the order that decides open and close, so ties are deterministic."""


def trade_key(trade: Trade) -> TradeKey:
    return (trade.ts, trade.id if trade.id is not None else 0)


@dataclass(frozen=True, slots=True)
class Ohlcv:
    """The summary of a non-empty set of trades; with `None` as identity, `merge` makes it a monoid."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trade_count: int
    notional: Decimal
    first: TradeKey
    last: TradeKey

    def __post_init__(self) -> None:
        _check_prices(self.open, self.high, self.low, self.close)
        _check_counts(self.volume, self.trade_count, self.notional, self.low, self.high)
        if self.first > self.last:
            raise InvalidValue("first", self.first, "a trade key no later than the last one")


def summarize(trade: Trade) -> Ohlcv:
    key = trade_key(trade)
    p = trade.price
    return Ohlcv(p, p, p, p, trade.volume, 1, EXACT.multiply(p, trade.volume), key, key)


def merge(a: Ohlcv | None, b: Ohlcv | None) -> Ohlcv | None:
    """Combine two summaries as if their trades had been aggregated together (associative, commutative)."""
    if a is None or b is None:
        return a if b is None else b
    first, last = min(a, b, key=lambda s: s.first), max(a, b, key=lambda s: s.last)
    return Ohlcv(
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


def aggregate(trades: Iterable[Trade]) -> Ohlcv | None:
    """The summary of the trades, or `None` when there are none."""
    summary: Ohlcv | None = None
    for trade in trades:
        summary = merge(summary, summarize(trade))
    return summary


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV of one symbol over one bucket `[start, start + interval)`; never empty."""

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

    def __post_init__(self) -> None:
        check_symbol(self.symbol)
        if not isinstance(self.interval, Interval):
            raise InvalidValue("interval", self.interval, "an Interval")
        if bucket_start(self.start, self.interval) != self.start:
            raise InvalidValue("start", self.start, f"a {self.interval.name} bucket start aligned to the Unix epoch")
        _check_prices(self.open, self.high, self.low, self.close)
        _check_counts(self.volume, self.trade_count, self.notional, self.low, self.high)

    @classmethod
    def of(cls, symbol: str, interval: Interval, start: datetime, summary: Ohlcv) -> Candle:
        s = summary
        return cls(symbol, interval, start, s.open, s.high, s.low, s.close, s.volume, s.trade_count, s.notional)

    @property
    def end(self) -> datetime:
        """The first instant after the bucket."""
        return self.start + self.interval.length

    @property
    def vwap(self) -> Decimal:
        return vwap(self.notional, self.volume)


def candles_of(trades: Iterable[Trade], interval: Interval) -> list[Candle]:
    """The candles of the trades, one per non-empty bucket, ordered by (symbol, start)."""

    def bucket(trade: Trade) -> tuple[str, datetime]:
        return (trade.symbol, bucket_start(trade.ts, interval))

    result = []
    for (symbol, start), group in groupby(sorted(trades, key=bucket), key=bucket):
        summary = aggregate(group)
        assert summary is not None  # groupby never yields an empty group
        result.append(Candle.of(symbol, interval, start, summary))
    return result


def rollup(candles: Iterable[Candle], interval: Interval) -> list[Candle]:
    """Candles of a wider interval from narrower ones: merging candles of adjacent buckets."""
    result = []
    ordered = sorted(candles, key=lambda c: (c.symbol, c.start))
    for (symbol, start), group in groupby(ordered, key=lambda c: (c.symbol, bucket_start(c.start, interval))):
        parts = list(group)
        if any(interval.seconds % c.interval.seconds for c in parts):
            raise InvalidValue("interval", interval.name, "a multiple of the interval of the candles rolled up")
        result.append(_combine(symbol, interval, start, parts))
    return result


def _combine(symbol: str, interval: Interval, start: datetime, parts: Sequence[Candle]) -> Candle:
    return Candle(
        symbol,
        interval,
        start,
        open=parts[0].open,
        high=max(c.high for c in parts),
        low=min(c.low for c in parts),
        close=parts[-1].close,
        volume=sum(c.volume for c in parts),
        trade_count=sum(c.trade_count for c in parts),
        notional=reduce(EXACT.add, (c.notional for c in parts), Decimal(0)),
    )


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
