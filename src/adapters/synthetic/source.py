"""A seedable per-symbol geometric Brownian motion that prints trades on the tick."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from domain.ranges import to_micros
from domain.trades import RawTrade, Trade, from_raw

# Plausible late-2026 levels; the walk drifts from here.
STARTING_PRICES_CENTS: Mapping[str, int] = {
    "AAPL": 19_000,
    "GOOGL": 14_000,
    "MSFT": 42_000,
    "TSLA": 25_000,
    "AMZN": 18_000,
}
_SECONDS_PER_YEAR = 365.25 * 24 * 3600
_MAX_VOLUME = 1_000_000


class _Walk:
    """State of one symbol: last timestamp and log-price of the walk."""

    __slots__ = ("last_us", "log_price")

    def __init__(self, last_us: int, price_cents: int) -> None:
        self.last_us = last_us
        self.log_price = math.log(price_cents)


class SyntheticTradeSource:
    """Generates trades in (last timestamp, until] for each symbol.

    Prices follow a geometric Brownian motion in cents (annualised volatility
    `volatility`), rounded to the 0.01 tick; volumes are Pareto distributed
    (heavy tail); timestamps are strictly increasing per symbol at microsecond
    resolution. The same seed and calls give the same trades.
    """

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        start: datetime,
        trades_per_second: float,
        seed: int | None = None,
        volatility: float = 0.35,
    ) -> None:
        self._rng = random.Random(seed)
        self._rate = trades_per_second
        self._volatility = volatility
        start_us = to_micros(start)
        self._walks = {s: _Walk(start_us, STARTING_PRICES_CENTS.get(s, 10_000)) for s in symbols}

    def resume(self, latest: Iterable[Trade], watermark: datetime | None = None) -> None:
        """Continue strictly after the watermark and already stored trades, from their prices."""
        if watermark is not None:
            for walk in self._walks.values():
                walk.last_us = max(walk.last_us, to_micros(watermark))
        for trade in latest:
            stored = self._walks.get(trade.symbol)
            if stored is None:
                continue
            stored.last_us = max(stored.last_us, to_micros(trade.ts))
            stored.log_price = math.log(int(trade.price * 100))

    def next_batch(self, until: datetime) -> list[Trade]:
        return [from_raw(raw) for raw in self.generate(to_micros(until))]

    def generate(self, until_us: int) -> list[RawTrade]:
        """Raw trades of every symbol up to `until_us`, ordered by symbol then time."""
        out: list[RawTrade] = []
        for symbol, walk in self._walks.items():
            out.extend(self._advance(symbol, walk, until_us))
        return out

    def _advance(self, symbol: str, walk: _Walk, until_us: int) -> list[RawTrade]:
        span_us = until_us - walk.last_us
        if span_us <= 0:
            return []
        count = min(self._poisson(self._rate * span_us / 1e6), span_us)
        rng = self._rng
        stamps = sorted(set(rng.randint(walk.last_us + 1, until_us) for _ in range(count)))
        sigma = self._volatility
        out: list[RawTrade] = []
        previous = walk.last_us
        for ts in stamps:
            dt = (ts - previous) / 1e6 / _SECONDS_PER_YEAR
            walk.log_price += -0.5 * sigma * sigma * dt + sigma * math.sqrt(dt) * rng.gauss()
            cents = max(1, round(math.exp(walk.log_price)))
            volume = min(_MAX_VOLUME, int(rng.paretovariate(1.3) * 10))
            out.append((symbol, ts, cents, volume))
            previous = ts
        walk.last_us = until_us
        return out

    def _poisson(self, mean: float) -> int:
        # Normal approximation is plenty for a synthetic feed and avoids a slow loop.
        if mean > 30:
            return max(0, round(self._rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, self._rng.random()
        while p > limit:
            k += 1
            p *= self._rng.random()
        return k
