"""A candle series as served: bars, finality by the ingestion watermark, roll-up into uneven buckets, gap fill."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import NamedTuple

from domain.candles import EXACT, Candle, vwap

Bounds = tuple[datetime, datetime]
"""A bucket `[start, end)`."""


class Bar(NamedTuple):
    """One entry of a served series: the candle of a bucket, or (when `filled`) a gap carrying the previous close.

    Bars are made from rows the store validated when it wrote them (as `Candle`s
    or by the schema's checks), so building one checks nothing again; a named
    tuple because the read path builds thousands per request (a third of the
    cost of a frozen dataclass).
    """

    start: datetime
    end: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trade_count: int
    notional: Decimal
    vwap: Decimal | None
    filled: bool = False


def bar_of(candle: Candle) -> Bar:
    c = candle
    return Bar(c.start, c.end, c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.notional, c.vwap)


def is_final(end: datetime, watermark: datetime | None) -> bool:
    """A bucket is final (`complete`) once the watermark has reached its end.

    The watermark is the time up to which the source has delivered trades and they
    are committed, so no ingestion can change a bucket that ends at or before it.
    The wall clock decides nothing: a bucket that closed while ingestion lags or is
    dead stays open until ingestion catches up.
    """
    return watermark is not None and end <= watermark


def merge_bars(parts: Sequence[Bar], bounds: Bounds) -> Bar:
    """The bar of `bounds` from the bars of consecutive narrower buckets inside it, in order."""
    notional = reduce(EXACT.add, (p.notional for p in parts), Decimal(0))
    volume = sum(p.volume for p in parts)
    return Bar(
        bounds[0],
        bounds[1],
        parts[0].open,
        max(p.high for p in parts),
        min(p.low for p in parts),
        parts[-1].close,
        volume,
        sum(p.trade_count for p in parts),
        notional,
        vwap(notional, volume),
    )


def roll_into(bars: Iterable[Bar], buckets: Sequence[Bounds]) -> list[Bar]:
    """Bars of the (possibly uneven) `buckets` from ordered narrower bars that each lie inside one bucket."""
    result: list[Bar] = []
    index, group = 0, list[Bar]()
    for bar in bars:
        while index < len(buckets) and bar.start >= buckets[index][1]:
            if group:
                result.append(merge_bars(group, buckets[index]))
                group = []
            index += 1
        if index == len(buckets):
            break
        if bar.start >= buckets[index][0]:
            group.append(bar)
    if group:
        result.append(merge_bars(group, buckets[index]))
    return result


def fill_previous(bars: Sequence[Bar], buckets: Iterable[Bounds]) -> list[Bar]:
    """Every bucket from the first bar to the last: empty ones carry the previous close, with no volume.

    `buckets` are the series' buckets in order; the bars are ordered and each sits on one of them.
    """
    if not bars:
        return []
    by_start = {b.start: b for b in bars}
    first, last = bars[0].start, bars[-1].start
    result: list[Bar] = []
    previous = bars[0]
    for start, end in buckets:
        if start < first:
            continue
        if start > last:
            break
        bar = by_start.get(start)
        if bar is None:
            price = previous.close
            bar = previous._replace(
                start=start,
                end=end,
                open=price,
                high=price,
                low=price,
                close=price,
                volume=0,
                trade_count=0,
                notional=Decimal(0),
                vwap=None,
                filled=True,
            )
        result.append(bar)
        previous = bar
    return result
