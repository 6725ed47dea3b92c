"""Differential: candles computed inside PostgreSQL equal the domain's, on generated trades (ties and edges too)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.postgres.url import libpq_url
from domain.candles import BucketSpan, Interval, candles_of
from domain.ranges import TimeRange
from domain.trades import Trade
from entrypoints.container import Container, resolve
from tests.integration.market_data_support import insert_trades
from tests.strategies import EPOCH_2026, clustered_trade_lists, intervals, time_ranges, trade_lists

SPAN = timedelta(hours=2)
generated_trades = st.one_of(clustered_trade_lists(span=SPAN), trade_lists(span=SPAN))


def _reset(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE trades, candles RESTART IDENTITY")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(generated_trades, intervals(max_seconds=3600), time_ranges(span=SPAN), st.sets(st.integers(0, 200)))
async def test_sql_candles_equal_domain_candles(
    container: Container, clean_db: str, trades: list[Trade], interval: Interval, window: TimeRange, held: set[int]
) -> None:
    _reset(clean_db)
    stored = insert_trades(clean_db, "AAPL", [(t.ts, str(t.price), t.volume) for t in trades])
    span = BucketSpan.select(window, interval)
    starts = list(span.starts())
    # Some buckets "already held": the rest is asked for in several separate runs.
    runs = span.missing({starts[i] for i in held if i < len(starts)})
    inside = [t for t in stored if any(lo <= t.ts < hi for lo, hi in runs)]
    async with (await resolve(container.gateways.unit_of_work))() as uow:
        computed = await uow.trades.candles("AAPL", interval, runs)
    assert computed == candles_of(inside, interval)
    assert [c.vwap for c in computed] == [c.vwap for c in candles_of(inside, interval)]


async def test_a_tie_at_a_bucket_edge_is_decided_by_id(container: Container, clean_db: str) -> None:
    edge = EPOCH_2026 + timedelta(minutes=1)
    rows = [(edge, "2.00", 1), (edge - timedelta(microseconds=1), "1.00", 1), (edge, "3.00", 1), (edge, "1.50", 1)]
    stored = insert_trades(clean_db, "AAPL", rows)
    m1 = Interval.parse("1m")
    async with (await resolve(container.gateways.unit_of_work))() as uow:
        computed = await uow.trades.candles("AAPL", m1, [(EPOCH_2026, edge + timedelta(minutes=1))])
    assert computed == candles_of(stored, m1)
    assert [(c.open, c.close) for c in computed] == [(stored[1].price,) * 2, (stored[0].price, stored[3].price)]
