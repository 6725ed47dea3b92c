"""Latency histograms: percentiles within a bucket of the truth, error classes apart, a rolling minute."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.histogram import BOUNDS_MS, Histogram
from entrypoints.http.latency import LatencyRecorder

latencies = st.lists(st.floats(min_value=0.01, max_value=90_000, allow_nan=False), min_size=1, max_size=200)
GROWTH = 2 ** (1 / 4)


@given(latencies, st.sampled_from([50, 95, 99]))
def test_a_percentile_is_within_one_bucket_of_the_exact_one(values: list[float], q: int) -> None:
    histogram = Histogram()
    for value in values:
        histogram.record(value, 200)
    exact = sorted(values)[max(0, math.ceil(q / 100 * len(values)) - 1)]
    estimate = histogram.percentile(q)
    assert estimate is not None
    assert estimate <= max(values)
    assert exact / GROWTH - BOUNDS_MS[0] <= estimate <= exact * GROWTH + BOUNDS_MS[0]


@given(latencies)
def test_count_mean_and_max_are_exact(values: list[float]) -> None:
    histogram = Histogram()
    for value in values:
        histogram.record(value, 200)
    summary = histogram.summary()
    assert summary.count == len(values)
    assert summary.max_ms == round(max(values), 3)
    assert summary.mean_ms is not None
    assert math.isclose(summary.mean_ms, sum(values) / len(values), rel_tol=1e-6, abs_tol=1e-3)


def test_client_and_server_errors_are_counted_apart() -> None:
    histogram = Histogram()
    for status in (200, 204, 400, 404, 422, 500, 503):
        histogram.record(1.0, status)
    summary = histogram.summary()
    assert (summary.count, summary.errors_4xx, summary.errors_5xx) == (7, 3, 2)


def test_an_empty_histogram_has_no_percentiles() -> None:
    summary = Histogram().summary()
    assert summary.count == 0
    assert summary.p50_ms is None and summary.max_ms is None


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_last_minute_forgets_older_requests_and_since_start_does_not() -> None:
    clock = FakeMonotonic()
    recorder = LatencyRecorder(clock)
    recorder.record("GET", "/candles", 10.0, 200)
    clock.now += 30
    recorder.record("GET", "/candles", 20.0, 500)
    [route] = recorder.snapshot()
    assert (route.since_start.count, route.last_minute.count) == (2, 2)
    clock.now += 45  # the first request is 75 s old now, the second 45 s
    [route] = recorder.snapshot()
    assert (route.since_start.count, route.last_minute.count) == (2, 1)
    assert route.last_minute.errors_5xx == 1
    clock.now += 60
    [route] = recorder.snapshot()
    assert (route.since_start.count, route.last_minute.count) == (2, 0)


def test_routes_are_kept_apart_by_method_and_template() -> None:
    recorder = LatencyRecorder(FakeMonotonic())
    recorder.record("GET", "/candles", 1.0, 200)
    recorder.record("GET", "/candles", 2.0, 200)
    recorder.record("GET", "/metrics", 1.0, 200)
    recorder.record("POST", "/metrics", 1.0, 405)
    assert [(r.method, r.route, r.since_start.count) for r in recorder.snapshot()] == [
        ("GET", "/candles", 2),
        ("GET", "/metrics", 1),
        ("POST", "/metrics", 1),
    ]
