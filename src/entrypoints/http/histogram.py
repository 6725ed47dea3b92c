"""Fixed-bucket latency histograms: constant memory, exact count/sum/max, percentiles within a bucket."""

from __future__ import annotations

from bisect import bisect_left

from market_data_client.contract import LatencySummary

# Upper bounds in milliseconds, growing by 2**(1/4) (about 19 %) from 0.05 ms to
# about 105 s; the last bucket catches everything slower. Interpolating inside
# a bucket keeps a percentile within a few percent of the true value.
BOUNDS_MS: tuple[float, ...] = tuple(round(0.05 * 2 ** (i / 4), 6) for i in range(85))
PERCENTILES = (50, 95, 99)


class Histogram:
    """Counts per bucket plus exact count, sum, max and error classes.

    Not locked: every request is recorded on the event loop's one thread.
    """

    __slots__ = ("buckets", "count", "errors_4xx", "errors_5xx", "max_ms", "sum_ms")

    def __init__(self) -> None:
        self.buckets = [0] * (len(BOUNDS_MS) + 1)
        self.count = 0
        self.errors_4xx = 0
        self.errors_5xx = 0
        self.sum_ms = 0.0
        self.max_ms = 0.0

    def record(self, ms: float, status: int) -> None:
        self.buckets[bisect_left(BOUNDS_MS, ms)] += 1
        self.count += 1
        self.sum_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms
        if status >= 500:
            self.errors_5xx += 1
        elif status >= 400:
            self.errors_4xx += 1

    def merge(self, other: Histogram) -> None:
        for index, value in enumerate(other.buckets):
            if value:
                self.buckets[index] += value
        self.count += other.count
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.sum_ms += other.sum_ms
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, q: float) -> float | None:
        """The q-th percentile, interpolated linearly inside its bucket and capped at the exact max."""
        if not self.count:
            return None
        rank = q / 100 * self.count
        seen = 0
        for index, value in enumerate(self.buckets):
            if value and seen + value >= rank:
                lower = BOUNDS_MS[index - 1] if index else 0.0
                upper = BOUNDS_MS[index] if index < len(BOUNDS_MS) else self.max_ms
                estimate = lower + (upper - lower) * max(0.0, rank - seen) / value
                return min(estimate, self.max_ms)
            seen += value
        return self.max_ms

    def cumulative(self, bounds: tuple[float, ...]) -> list[int]:
        """Counts at or below each of `bounds` (which must be among BOUNDS_MS): Prometheus buckets."""
        totals, running, index = [], 0, 0
        for bound in bounds:
            while index < len(BOUNDS_MS) and BOUNDS_MS[index] <= bound:
                running += self.buckets[index]
                index += 1
            totals.append(running)
        return totals

    def summary(self) -> LatencySummary:
        """The aggregates as /metrics serves them (the contract's type), in milliseconds to the microsecond."""
        if not self.count:
            return LatencySummary(
                count=0, errors_4xx=0, errors_5xx=0, mean_ms=None, p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None
            )
        p50, p95, p99 = (thousandths(self.percentile(q)) for q in PERCENTILES)
        return LatencySummary(
            count=self.count,
            errors_4xx=self.errors_4xx,
            errors_5xx=self.errors_5xx,
            mean_ms=thousandths(self.sum_ms / self.count),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            max_ms=thousandths(self.max_ms),
        )


def thousandths(value: float | None) -> float | None:
    """A measured figure as the JSON documents carry it: three decimals (ms to the µs, s to the ms); None stays None."""
    return None if value is None else round(value, 3)
