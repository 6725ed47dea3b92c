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
    aggregate,
    bucket_start,
    candles_of,
    merge,
    rollup,
    trade_key,
    vwap,
)
from domain.errors import InvalidValue
from domain.ranges import to_micros
from domain.series import is_final
from domain.trades import Trade
from tests.strategies import clustered_trade_lists, instants, intervals, prices, trade_lists, volumes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
M1 = Interval.parse("1m")
any_trades = st.one_of(trade_lists(), clustered_trade_lists())


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


@given(any_trades, intervals(), st.randoms(use_true_random=False))
def test_candles_do_not_depend_on_the_order_trades_are_given(
    trades: list[Trade], interval: Interval, rnd: random.Random
) -> None:
    shuffled = list(trades)
    rnd.shuffle(shuffled)
    assert candles_of(shuffled, interval) == candles_of(trades, interval)


@given(any_trades, st.integers(min_value=0, max_value=60))
def test_aggregating_a_concatenation_is_merging_the_aggregates(trades: list[Trade], cut: int) -> None:
    left, right = trades[:cut], trades[cut:]
    assert aggregate(trades) == merge(aggregate(left), aggregate(right))


@given(any_trades, st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60))
def test_merge_is_associative_with_none_as_identity(trades: list[Trade], i: int, j: int) -> None:
    i, j = sorted((i, j))
    a, b, c = aggregate(trades[:i]), aggregate(trades[i:j]), aggregate(trades[j:])
    assert merge(merge(a, b), c) == merge(a, merge(b, c))
    assert merge(a, None) == merge(None, a) == a
    assert merge(a, b) == merge(b, a)


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
