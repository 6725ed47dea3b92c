"""Properties of the one freshness rule: monotone in age, alive at the boundary, dead without a heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.freshness import STALE_FACTOR, IngestionStatus, assess_freshness
from domain.heartbeat import Heartbeat

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# Whole microseconds, so that an age is exactly representable as a timedelta.
ages_us = st.integers(min_value=0, max_value=10 * 86_400 * 1_000_000)
intervals_ms = st.integers(min_value=1, max_value=3_600_000)


def beat(age_us: int) -> Heartbeat:
    return Heartbeat(NOW - timedelta(microseconds=age_us), None, 1, 1, 1, 1.0)


def status(age_us: int, interval_ms: int) -> IngestionStatus:
    return assess_freshness(beat(age_us), NOW, interval_ms / 1000).status


@given(ages_us, ages_us, intervals_ms)
def test_older_is_never_more_alive(a: int, b: int, interval_ms: int) -> None:
    younger, older = sorted((a, b))
    if status(older, interval_ms) is IngestionStatus.ALIVE:
        assert status(younger, interval_ms) is IngestionStatus.ALIVE


@given(intervals_ms)
def test_exactly_at_the_threshold_is_alive_and_one_microsecond_later_dead(interval_ms: int) -> None:
    threshold_us = interval_ms * 1000 * STALE_FACTOR
    assert status(threshold_us, interval_ms) is IngestionStatus.ALIVE
    assert status(threshold_us + 1, interval_ms) is IngestionStatus.DEAD


@given(ages_us, intervals_ms)
def test_alive_exactly_when_the_age_is_within_the_threshold(age_us: int, interval_ms: int) -> None:
    expected = IngestionStatus.ALIVE if age_us <= interval_ms * 1000 * STALE_FACTOR else IngestionStatus.DEAD
    assert status(age_us, interval_ms) is expected


@given(st.floats(min_value=0.001, max_value=86_400, allow_nan=False))
def test_no_heartbeat_is_dead_whatever_the_interval(interval: float) -> None:
    freshness = assess_freshness(None, NOW, interval)
    assert freshness.status is IngestionStatus.DEAD
    assert freshness.heartbeat_age_seconds is None
    assert freshness.stale_after_seconds == interval * STALE_FACTOR


@given(st.integers(min_value=1, max_value=10_000_000), intervals_ms)
def test_a_heartbeat_from_a_clock_slightly_ahead_is_fresh(ahead_us: int, interval_ms: int) -> None:
    freshness = assess_freshness(beat(-ahead_us), NOW, interval_ms / 1000)
    assert freshness.status is IngestionStatus.ALIVE
    assert freshness.heartbeat_age_seconds == 0.0
