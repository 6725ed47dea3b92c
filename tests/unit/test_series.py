"""Served series: local-day buckets across DST and odd offsets, roll-up into them, gap fill, finality."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.candles import BucketSpan, Interval, candles_of
from domain.errors import InvalidValue, TooManyCandles
from domain.local_days import LocalDays, parse_zone
from domain.ranges import TimeRange
from domain.series import bar_of, fill_previous, is_final, roll_into
from domain.trades import Trade
from tests.oracles import expected_ohlcv
from tests.strategies import EPOCH_2026, intervals, trade_lists

NEW_YORK = ZoneInfo("America/New_York")


def days(zone: str, start: str, end: str) -> LocalDays:
    window = TimeRange(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return LocalDays.select(window, ZoneInfo(zone))


def test_new_york_dst_days_are_23_and_25_hours_long() -> None:
    spring = days("America/New_York", "2026-03-07T12:00:00+00:00", "2026-03-10T00:00:00+00:00")
    assert [end - start for start, end in spring.buckets] == [timedelta(hours=h) for h in (24, 23, 24)]
    assert spring.buckets[1][0] == datetime(2026, 3, 8, 5, tzinfo=UTC)  # midnight EST
    assert spring.buckets[1][1] == datetime(2026, 3, 9, 4, tzinfo=UTC)  # midnight EDT
    autumn = days("America/New_York", "2026-11-01T04:00:00+00:00", "2026-11-01T05:00:00+00:00")
    ((start, end),) = autumn.buckets
    assert (start, end) == (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC))
    assert autumn.rollup_base() == Interval.parse("1h")


@pytest.mark.parametrize(
    ("zone", "midnight", "base"),
    [
        ("Asia/Kolkata", datetime(2026, 6, 14, 18, 30, tzinfo=UTC), "30m"),
        ("Asia/Kathmandu", datetime(2026, 6, 14, 18, 15, tzinfo=UTC), "15m"),
        ("Asia/Dubai", datetime(2026, 6, 14, 20, 0, tzinfo=UTC), "4h"),
        ("UTC", datetime(2026, 6, 15, 0, 0, tzinfo=UTC), "4h"),
    ],
)
def test_local_days_start_at_local_midnight_and_roll_up_from_the_widest_dividing_interval(
    zone: str, midnight: datetime, base: str
) -> None:
    (bucket,) = days(zone, midnight.isoformat(), (midnight + timedelta(hours=1)).isoformat()).buckets
    assert bucket == (midnight, midnight + timedelta(days=1))
    assert days(zone, midnight.isoformat(), (midnight + timedelta(hours=1)).isoformat()).rollup_base().name == base


def test_a_skipped_midnight_starts_the_day_at_the_transition() -> None:
    # Havana springs forward at 00:00 local: 2026-03-08 00:00 never happens; the day starts at 01:00 CDT.
    (bucket,) = days("America/Havana", "2026-03-08T06:00:00+00:00", "2026-03-08T07:00:00+00:00").buckets
    assert bucket[0] == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert bucket[1] - bucket[0] == timedelta(hours=23)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "America/New York"])
def test_unknown_zones_are_refused_naming_tz(name: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_zone(name)
    assert raised.value.field == "tz"


def test_too_many_local_days_are_refused() -> None:
    window = TimeRange(EPOCH_2026, EPOCH_2026 + timedelta(days=20))
    with pytest.raises(TooManyCandles):
        LocalDays.select(window, NEW_YORK, maximum=10)


@given(trade_lists(start=EPOCH_2026, span=timedelta(days=4), max_size=60), st.sampled_from(["1m", "5m", "15m"]))
def test_local_days_rolled_up_from_narrower_candles_equal_the_aggregate_of_their_trades(
    trades: list[Trade], base_name: str
) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # +05:45: only intervals up to 15m fit inside its days
    local = LocalDays.select(TimeRange(EPOCH_2026, EPOCH_2026 + timedelta(days=4)), zone)
    assert local.rollup_base() == Interval.parse("15m")
    rolled = roll_into([bar_of(c) for c in candles_of(trades, Interval.parse(base_name))], local.buckets)
    expected = []
    for start, end in local.buckets:
        s = expected_ohlcv(t for t in trades if start <= t.ts < end)
        if s is not None:
            vwap_ = s.vwap
            expected.append((start, end, s.open, s.high, s.low, s.close, s.volume, s.trade_count, s.notional, vwap_))
    assert [
        (b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.trade_count, b.notional, b.vwap) for b in rolled
    ] == expected


@given(trade_lists(start=EPOCH_2026, span=timedelta(hours=3), max_size=40), intervals(max_seconds=3600))
def test_fill_previous_covers_first_to_last_and_copies_the_previous_close(
    trades: list[Trade], interval: Interval
) -> None:
    real = [bar_of(c) for c in candles_of(trades, interval)]
    span = BucketSpan(interval, EPOCH_2026, EPOCH_2026 + timedelta(hours=3))
    filled = fill_previous(real, span.bounds())
    if not real:
        assert filled == []
        return
    assert len(filled) == (real[-1].start - real[0].start) // interval.length + 1
    assert [b for b in filled if not b.filled] == real
    for previous, bar in itertools.pairwise(filled):
        assert bar.start == previous.end
        if bar.filled:
            assert bar.open == bar.high == bar.low == bar.close == previous.close
            assert (bar.volume, bar.trade_count, bar.vwap) == (0, 0, None)


def test_finality_is_the_watermark_reaching_the_bucket_end() -> None:
    end = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert is_final(end, end)
    assert not is_final(end, end - timedelta(microseconds=1))
    assert not is_final(end, None)
