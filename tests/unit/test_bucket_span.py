"""Which buckets a request selects, the candle limit, and request windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.candles import BucketSpan, Interval, bucket_start
from domain.errors import InvalidValue, TooManyCandles
from domain.ranges import TimeRange
from tests.strategies import intervals, time_ranges

T0 = datetime(2026, 1, 1, tzinfo=UTC)
M1 = Interval.parse("1m")


@given(time_ranges(), intervals(max_seconds=3600))
def test_the_span_holds_exactly_the_buckets_starting_in_floor_start_to_end(
    window: TimeRange, interval: Interval
) -> None:
    span = BucketSpan.select(window, interval)
    starts = list(span.starts())
    assert starts[0] == bucket_start(window.start, interval)
    assert all(window.start - interval.length < s < window.end for s in starts)
    assert starts[-1] + interval.length >= window.end
    assert span.end == starts[-1] + interval.length
    assert len(starts) == span.count


@given(time_ranges(), st.sets(st.integers(min_value=0, max_value=150)))
def test_missing_runs_cover_exactly_the_buckets_not_held(window: TimeRange, held: set[int]) -> None:
    span = BucketSpan.select(window, M1)
    starts = list(span.starts())
    have = {starts[i] for i in held if i < len(starts)}
    runs = span.missing(have)
    covered = [s for s in starts if any(lo <= s < hi for lo, hi in runs)]
    assert covered == [s for s in starts if s not in have]
    assert all(a[1] < b[0] for a, b in pairwise(runs))  # maximal: never adjacent


def test_edge_buckets_are_whole_when_start_and_end_fall_inside_them() -> None:
    window = TimeRange(T0 + timedelta(seconds=30), T0 + timedelta(minutes=2, seconds=1))
    span = BucketSpan.select(window, M1)
    assert (span.first, span.end, span.count) == (T0, T0 + timedelta(minutes=3), 3)


def test_an_end_on_a_bucket_edge_excludes_that_bucket() -> None:
    span = BucketSpan.select(TimeRange(T0, T0 + timedelta(minutes=2)), M1)
    assert (span.first, span.end, span.count) == (T0, T0 + timedelta(minutes=2), 2)


def test_too_many_candles_says_how_many_and_the_maximum() -> None:
    with pytest.raises(TooManyCandles) as raised:
        BucketSpan.select(TimeRange(T0, T0 + timedelta(days=7)), M1)
    assert (raised.value.count, raised.value.maximum) == (10_080, 10_000)
    assert "10,080" in str(raised.value) and "10,000" in str(raised.value)
    assert BucketSpan.select(TimeRange(T0, T0 + timedelta(minutes=10_000)), M1).count == 10_000


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (datetime(2026, 1, 1), T0, "start"),
        (T0, T0, "end"),
        (T0, T0 - timedelta(seconds=1), "end"),
        (T0.astimezone(timezone(timedelta(hours=2))), T0 + timedelta(hours=1), "start"),
        (datetime(1969, 12, 31, tzinfo=UTC), T0, "start"),
        (T0, datetime(2300, 1, 1, tzinfo=UTC), "end"),
    ],
)
def test_a_window_refuses_naive_reversed_or_out_of_range_times(start: datetime, end: datetime, field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        TimeRange(start, end)
    assert raised.value.field == field


@given(intervals(max_seconds=3600), time_ranges(span=timedelta(hours=3)), st.sets(st.integers(0, 400)))
def test_gaps_between_ordered_present_buckets_are_the_missing_runs(
    interval: Interval, window: TimeRange, held: set[int]
) -> None:
    span = BucketSpan.select(window, interval, 10**9)
    starts = list(span.starts())
    present = [starts[i] for i in sorted(held) if i < len(starts)]
    assert span.gaps(present) == span.missing(set(present))
