"""The synthetic source: on the tick, strictly increasing per symbol, heavy-tailed, seedable."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.synthetic.source import SyntheticTradeSource
from domain.trades import SUPPORTED_SYMBOLS, Trade

START = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def _source(seed: int | None = 7, rate: float = 20.0) -> SyntheticTradeSource:
    return SyntheticTradeSource(SUPPORTED_SYMBOLS, start=START, trades_per_second=rate, seed=seed)


def _run(source: SyntheticTradeSource, steps: list[float]) -> list[Trade]:
    out, at = [], START
    for step in steps:
        at += timedelta(seconds=step)
        out.extend(source.next_batch(at))
    return out


@given(seed=st.integers(0, 2**32), steps=st.lists(st.floats(0.001, 5.0), min_size=1, max_size=20))
def test_prices_on_the_tick_and_timestamps_strictly_increase_per_symbol(seed: int, steps: list[float]) -> None:
    by_symbol: dict[str, list[Trade]] = defaultdict(list)
    end = START + timedelta(seconds=sum(steps))
    for trade in _run(_source(seed), steps):
        assert trade.price > 0 and trade.price == trade.price.quantize(Decimal("0.01"))
        assert trade.volume > 0
        assert START < trade.ts <= end
        by_symbol[trade.symbol].append(trade)
    for trades in by_symbol.values():
        assert all(a.ts < b.ts for a, b in itertools.pairwise(trades))


@given(seed=st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_trades(seed: int) -> None:
    steps = [1.0, 0.5, 2.0]
    assert _run(_source(seed), steps) == _run(_source(seed), steps)


def test_different_seeds_give_different_trades() -> None:
    assert _run(_source(1), [2.0]) != _run(_source(2), [2.0])


def test_every_symbol_trades_several_times_per_tick_at_the_configured_rate() -> None:
    trades = _run(_source(rate=5.0), [1.0] * 200)
    counts = defaultdict(int)
    for trade in trades:
        counts[trade.symbol] += 1
    assert set(counts) == set(SUPPORTED_SYMBOLS)
    for count in counts.values():
        assert 800 <= count <= 1200  # Poisson(5) per second over 200 s: mean 1000


def test_volumes_are_heavy_tailed() -> None:
    volumes = [t.volume for t in _run(_source(rate=50.0), [60.0])]
    assert max(volumes) > 20 * statistics.median(volumes)


def test_prices_start_near_plausible_levels_and_walk() -> None:
    first = {t.symbol: t.price for t in reversed(_run(_source(), [1.0]))}
    assert Decimal("150") < first["AAPL"] < Decimal("230")
    assert Decimal("350") < first["MSFT"] < Decimal("500")
    assert len({t.price for t in _run(_source(), [60.0]) if t.symbol == "AAPL"}) > 10


def test_resume_continues_strictly_after_stored_trades_from_their_price() -> None:
    stored = Trade("AAPL", START + timedelta(hours=1), Decimal("250.00"), 5, 99)
    source = _source()
    source.resume([stored])
    batch = [t for t in source.next_batch(START + timedelta(hours=1, seconds=10)) if t.symbol == "AAPL"]
    assert batch and all(t.ts > stored.ts for t in batch)
    assert Decimal("240") < batch[0].price < Decimal("260")


def test_resume_continues_strictly_after_the_watermark_even_past_the_last_trade() -> None:
    stored = Trade("AAPL", START + timedelta(minutes=1), Decimal("250.00"), 5, 99)
    watermark = START + timedelta(minutes=10)
    source = _source(rate=50)
    source.resume([stored], watermark)
    batch = source.next_batch(START + timedelta(minutes=10, seconds=5))
    assert batch and all(t.ts > watermark for t in batch)
    assert {t.symbol for t in batch} == set(SUPPORTED_SYMBOLS)  # every symbol, stored trades or not
