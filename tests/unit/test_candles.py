"""Candle rules as properties: exact OHLCV, a monoid, rollups, order independence."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.candles import (
    EXACT,
    INTERVALS,
    VWAP_SCALE,
    Candle,
    Interval,
    bucket_start,
    candles_of,
    merge,
    rollup,
    summarize,
    vwap,
)
from domain.errors import InvalidValue, MismatchedCandles
from domain.ranges import to_micros
from domain.series import is_final
from domain.trades import Trade, trade_key
from tests.strategies import clustered_trade_lists, instants, intervals, prices, trade_lists, volumes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
M1 = Interval.parse("1m")
DAY = Interval.parse("1d")
any_trades = st.one_of(trade_lists(), clustered_trade_lists())


def day_candle(trades: list[Trade]) -> Candle | None:
    """The candle of trades that share one day (as every strategy's do), by folding `merge`; `None` for none."""
    candle: Candle | None = None
    for trade in trades:
        candle = merge(candle, summarize(trade, DAY))
    return candle


@given(instants(), intervals())
def test_a_moment_lies_in_its_bucket_which_is_aligned_to_the_epoch(moment: datetime, interval: Interval) -> None:
    start = bucket_start(moment, interval)
    assert start <= moment < start + interval.length
    assert to_micros(start) % interval.micros == 0
    assert bucket_start(start, interval) == start


@given(any_trades, intervals())
def test_high_and_low_bound_open_and_close(trades: list[Trade], interval: Interval) -> None:
    for candle in candles_of(trades, interval):
        assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high
        assert candle.low <= candle.vwap <= candle.high


@given(any_trades, intervals())
def test_each_candle_sums_exactly_the_trades_of_its_bucket(trades: list[Trade], interval: Interval) -> None:
    result = candles_of(trades, interval)
    for candle in result:
        inside = [t for t in trades if candle.start <= t.ts < candle.end]
        assert candle.volume == sum(t.volume for t in inside)
        assert candle.trade_count == len(inside)
        assert candle.notional == sum(Fraction(t.price) * t.volume for t in inside)
        assert candle.high == max(t.price for t in inside)
        assert candle.low == min(t.price for t in inside)
    assert sum(c.trade_count for c in result) == len(trades)


@given(any_trades, intervals())
def test_open_and_close_are_the_first_and_last_trade_by_time_then_id(trades: list[Trade], interval: Interval) -> None:
    for candle in candles_of(trades, interval):
        inside = [t for t in trades if candle.start <= t.ts < candle.end]
        assert candle.open == min(inside, key=trade_key).price
        assert candle.close == max(inside, key=trade_key).price
        assert (candle.first, candle.last) == (
            trade_key(min(inside, key=trade_key)),
            trade_key(max(inside, key=trade_key)),
        )


@given(any_trades, intervals(), st.randoms(use_true_random=False))
def test_candles_do_not_depend_on_the_order_trades_are_given(
    trades: list[Trade], interval: Interval, rnd: random.Random
) -> None:
    shuffled = list(trades)
    rnd.shuffle(shuffled)
    assert candles_of(shuffled, interval) == candles_of(trades, interval)


@given(any_trades, st.integers(min_value=0, max_value=60))
def test_the_candle_of_a_concatenation_is_the_merge_of_the_candles(trades: list[Trade], cut: int) -> None:
    left, right = trades[:cut], trades[cut:]
    assert day_candle(trades) == merge(day_candle(left), day_candle(right))
    assert [day_candle(trades)] == (candles_of(trades, DAY) if trades else [None])


@given(any_trades, st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60))
def test_merge_is_associative_and_commutative_with_none_as_identity(trades: list[Trade], i: int, j: int) -> None:
    i, j = sorted((i, j))
    a, b, c = day_candle(trades[:i]), day_candle(trades[i:j]), day_candle(trades[j:])
    assert merge(merge(a, b), c) == merge(a, merge(b, c))
    assert merge(a, None) == merge(None, a) == a
    assert merge(a, b) == merge(b, a)


def test_only_candles_of_one_symbol_and_bucket_merge() -> None:
    trade = Trade("AAPL", T0, Decimal("10.00"), 1, 1)
    one = summarize(trade, M1)
    for other in (
        summarize(Trade("MSFT", T0, Decimal("10.00"), 1, 2), M1),
        summarize(Trade("AAPL", T0 + timedelta(minutes=1), Decimal("10.00"), 1, 2), M1),
        summarize(trade, Interval.parse("5m")),
    ):
        with pytest.raises(MismatchedCandles) as raised:
            merge(one, other)
        assert raised.value.left == ("AAPL", "1m", T0)
        assert raised.value.right == (other.symbol, other.interval.name, other.start)


@given(any_trades, intervals(), intervals())
def test_wider_candles_are_the_rollup_of_narrower_ones(trades: list[Trade], x: Interval, y: Interval) -> None:
    fine, coarse = sorted((x, y), key=lambda i: i.seconds)
    assert rollup(candles_of(trades, fine), coarse) == candles_of(trades, coarse)


def test_five_minute_candles_are_the_merge_of_their_one_minute_candles() -> None:
    trades = [
        Trade("AAPL", T0 + timedelta(seconds=s), Decimal(p), v, i + 1)
        for i, (s, p, v) in enumerate([(5, "10.00", 1), (70, "12.50", 3), (299, "9.99", 2), (300, "11.00", 1)])
    ]
    five = Interval.parse("5m")
    minutes = [c.within(five) for c in candles_of(trades, M1) if c.start < T0 + five.length]
    assert merge(merge(minutes[0], minutes[1]), minutes[2]) == candles_of(trades, five)[0]
    assert rollup(candles_of(trades, M1), five) == candles_of(trades, five)
    first = candles_of(trades, five)[0]
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("10.00"),
        Decimal("12.50"),
        Decimal("9.99"),
        Decimal("9.99"),
    )
    assert (first.volume, first.trade_count, first.notional) == (6, 3, Decimal("67.48"))


@given(prices(), volumes(), prices(), volumes())
def test_vwap_is_exact_then_rounded_once_half_up(p1: Decimal, v1: int, p2: Decimal, v2: int) -> None:
    notional = EXACT.add(EXACT.multiply(p1, v1), EXACT.multiply(p2, v2))
    exact = Fraction(notional) / (v1 + v2)
    expected = Fraction(math.floor(exact * 10**VWAP_SCALE + Fraction(1, 2)), 10**VWAP_SCALE)
    assert Fraction(vwap(notional, v1 + v2)) == expected
    assert vwap(notional, v1 + v2).as_tuple().exponent == -VWAP_SCALE


def test_vwap_rounds_a_half_up_not_to_even() -> None:
    assert vwap(Decimal("0.01"), 8, scale=3) == Decimal("0.001")  # 0.00125 -> 0.001 (below half)
    assert vwap(Decimal("0.05"), 8, scale=4) == Decimal("0.0063")  # 0.00625 -> 0.0063, not 0.0062
    assert vwap(Decimal("100.01"), 3) == Decimal("33.336667")


def test_huge_sums_stay_exact() -> None:
    big = Trade("AAPL", T0, Decimal("9999999999999999.99"), 10**18 - 1, 1)
    candle = candles_of([big, Trade("AAPL", T0, Decimal("0.01"), 10**18 - 1, 2)], M1)[0]
    assert candle.notional == Decimal("9999999999999999.99") * (10**18 - 1) + Decimal("0.01") * (10**18 - 1)
    assert candle.notional == Fraction(Decimal("10000000000000000.00")) * (10**18 - 1)


def test_unknown_interval_lists_the_allowed_ones() -> None:
    with pytest.raises(InvalidValue) as raised:
        Interval.parse("2m")
    assert raised.value.field == "interval"
    assert "1m, 5m, 15m" in raised.value.allowed and "1d" in raised.value.allowed
    assert [i.name for i in INTERVALS][:2] == ["1s", "1m"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"high": Decimal("9.00")}, "high"),
        ({"low": Decimal("12.00")}, "low"),
        ({"volume": 0}, "volume"),
        ({"trade_count": 0}, "trade_count"),
        ({"start": T0 + timedelta(seconds=1)}, "start"),
        ({"notional": Decimal("1.001")}, "notional"),
        ({"notional": Decimal("1000.00")}, "notional"),
        ({"open": Decimal("10.001")}, "open"),
        ({"first": (T0 + timedelta(seconds=30), 9)}, "first"),
        ({"first": (T0 - timedelta(microseconds=1), 1)}, "first"),
        ({"last": (T0 + timedelta(minutes=1), 2)}, "last"),
    ],
)
def test_a_candle_refuses_to_break_its_invariants(change: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "symbol": "AAPL",
        "interval": M1,
        "start": T0,
        "open": Decimal("10.00"),
        "high": Decimal("11.00"),
        "low": Decimal("9.50"),
        "close": Decimal("10.50"),
        "volume": 2,
        "trade_count": 2,
        "notional": Decimal("20.50"),
        "first": (T0, 1),
        "last": (T0 + timedelta(seconds=30), 2),
    }
    Candle(**values)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as raised:
        Candle(**{**values, **change})  # type: ignore[arg-type]
    assert raised.value.field == field


def test_a_candle_knows_its_end() -> None:
    candle = candles_of([Trade("AAPL", T0 + timedelta(seconds=59), Decimal("1.00"), 1, 1)], M1)[0]
    assert (candle.start, candle.end) == (T0, T0 + timedelta(minutes=1))
    assert not is_final(candle.end, T0 + timedelta(seconds=59, microseconds=999_999))
    assert is_final(candle.end, T0 + timedelta(minutes=1))
    assert not is_final(candle.end, None)


def test_a_candle_moves_only_into_a_wider_bucket_that_holds_it() -> None:
    candle = summarize(Trade("AAPL", T0 + timedelta(minutes=7, seconds=3), Decimal("1.00"), 1, 1), M1)
    assert candle.within(Interval.parse("5m")).start == T0 + timedelta(minutes=5)
    assert candle.within(M1) == candle
    with pytest.raises(InvalidValue) as raised:
        candle.within(Interval.parse("1s"))
    assert raised.value.field == "interval"
