"""GetCandles and ListTrades against in-memory fakes: what is stored, served and recomputed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.candles import CandleQuery, GetCandles
from application.freshness import GetFreshness
from application.trades import ListTrades, TradeQuery
from domain.candles import BucketSpan, Interval, candles_of, trade_key
from domain.errors import InvalidValue, TooManyCandles, UnknownSymbol
from domain.ranges import TimeRange
from domain.trades import Trade
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock
from tests.strategies import EPOCH_2026, instants, intervals, prices, time_ranges, trade_lists

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
M1 = Interval.parse("1m")


def trade(seconds: float, price: str, volume: int = 1) -> Trade:
    return Trade("AAPL", T0 + timedelta(seconds=seconds), Decimal(price), volume)


def setup(now: datetime) -> tuple[FakeUnitOfWorkFactory, FrozenClock, GetCandles]:
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(now)
    return uow, clock, GetCandles(uow, clock, GetFreshness(uow, clock, 1.0))


async def write(uow: FakeUnitOfWorkFactory, *trades: Trade) -> None:
    async with uow() as unit:
        await unit.trades.add_many(trades)
        await unit.commit()


def aggregated(uow: FakeUnitOfWorkFactory) -> list[list[tuple[datetime, datetime]]]:
    """Every set of spans the use case asked the trade store to aggregate, in order."""
    return [spans for unit in uow.opened for spans in unit.trades.aggregated_spans]


def window(start: float, end: float) -> TimeRange:
    return TimeRange(T0 + timedelta(seconds=start), T0 + timedelta(seconds=end))


async def test_closed_buckets_are_stored_once_then_served_without_recomputing() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(1, "10.00"), trade(61, "11.00"), trade(62, "12.00", 3))
    first = await get(CandleQuery("AAPL", M1, window(0, 180)))
    assert [(c.start, c.close, c.volume) for c in first.candles] == [
        (T0, Decimal("10.00"), 1),
        (T0 + timedelta(minutes=1), Decimal("12.00"), 4),
    ]
    assert len(uow.store.candles) == 2
    assert len(aggregated(uow)) == 1
    again = await get(CandleQuery("AAPL", M1, window(0, 180)))
    assert again.candles == first.candles
    # Only the empty third minute was looked at again; stored buckets were not.
    assert aggregated(uow)[1:] == [[(T0 + timedelta(minutes=2), T0 + timedelta(minutes=3))]]


async def test_a_sub_range_request_still_stores_and_returns_the_whole_bucket() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(5, "10.00"), trade(30, "11.00"), trade(55, "9.00"))
    series = await get(CandleQuery("AAPL", M1, window(20, 40)))
    (candle,) = series.candles
    assert (candle.open, candle.high, candle.low, candle.close, candle.trade_count) == (
        Decimal("10.00"),
        Decimal("11.00"),
        Decimal("9.00"),
        Decimal("9.00"),
        3,
    )
    assert next(iter(uow.store.candles.values())).candle == candle


async def test_the_open_bucket_is_incomplete_stored_and_recomputed_next_time() -> None:
    uow, clock, get = setup(T0 + timedelta(seconds=90))
    await write(uow, trade(10, "10.00"), trade(70, "11.00"))
    series = await get(CandleQuery("AAPL", M1, window(0, 120)))
    assert [series.is_complete(c) for c in series.candles] == [True, False]
    assert len(uow.store.candles) == 2  # the open one too, to be overwritten
    clock.advance(60)
    series = await get(CandleQuery("AAPL", M1, window(0, 120)))
    assert aggregated(uow)[-1] == [(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))]
    assert [series.is_complete(c) for c in series.candles] == [True, True]


async def test_a_late_trade_changes_the_stored_candle_of_its_bucket() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(10, "10.00"))
    await get(CandleQuery("AAPL", M1, window(0, 60)))
    await write(uow, trade(59.999999, "15.00", 2))
    (candle,) = (await get(CandleQuery("AAPL", M1, window(0, 60)))).candles
    assert (candle.close, candle.high, candle.volume, candle.trade_count) == (Decimal("15.00"), Decimal("15.00"), 3, 2)


async def test_the_answer_carries_freshness_and_the_effective_span() -> None:
    _, _, get = setup(T0 + timedelta(hours=1))
    series = await get(CandleQuery("AAPL", Interval.parse("5m"), window(61, 601)))
    assert series.candles == []
    assert (series.span.first, series.span.end) == (T0, T0 + timedelta(minutes=15))
    assert series.freshness.status == "dead"  # no heartbeat ever: "ingestion is behind", not "no trades"


async def test_unknown_symbols_and_too_many_candles_are_refused() -> None:
    _, _, get = setup(T0)
    with pytest.raises(UnknownSymbol):
        await get(CandleQuery("NOPE", M1, window(0, 60)))
    with pytest.raises(TooManyCandles) as raised:
        await get(CandleQuery("AAPL", Interval.parse("1s"), window(0, 10_001)))
    assert raised.value.count == 10_001


@given(trade_lists(start=EPOCH_2026, span=timedelta(minutes=10), max_size=40), st.integers(min_value=1, max_value=7))
async def test_paging_visits_every_trade_once_in_time_then_id_order(trades: list[Trade], limit: int) -> None:
    uow = FakeUnitOfWorkFactory()
    await write(uow, *trades)
    list_trades, seen, after = ListTrades(uow), [], None
    everything = TimeRange(EPOCH_2026, EPOCH_2026 + timedelta(minutes=10))
    while True:
        page = await list_trades(TradeQuery("AAPL", everything, limit, after))
        assert len(page.trades) <= limit
        seen.extend(page.trades)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(uow.store.trades, key=trade_key)
    assert candles_of(seen, M1) == candles_of(trades, M1)


async def test_a_page_limit_outside_one_to_ten_thousand_is_refused() -> None:
    with pytest.raises(InvalidValue) as raised:
        await ListTrades(FakeUnitOfWorkFactory())(TradeQuery("AAPL", window(0, 1), 10_001))
    assert raised.value.field == "limit"


async def test_a_wider_candle_is_merged_from_stored_one_minute_candles() -> None:
    uow, clock, get = setup(T0 + timedelta(seconds=90))
    await write(uow, trade(10, "10.00"), trade(70, "11.00"))
    day = Interval.parse("1d")
    await get(CandleQuery("AAPL", day, window(0, 1)))
    assert T0 in {start for _, _, start in uow.store.candles}  # the closed minute, stored on the way
    clock.advance(30)
    await write(uow, trade(115, "12.00"))
    (candle,) = (await get(CandleQuery("AAPL", day, window(0, 1)))).candles
    # Only the open minute and the empty rest of the day were read from trades, not the closed minute.
    asked = aggregated(uow)[-1]
    assert not any(lo <= T0 < hi for lo, hi in asked)
    assert candle == candles_of(uow.store.trades, day)[0]


query_steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), intervals(max_seconds=86_400), time_ranges(span=timedelta(hours=2))),
        st.tuples(st.just("trade"), instants(span=timedelta(hours=2)), prices()),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=3600)),
    ),
    max_size=12,
)


@given(trade_lists(start=EPOCH_2026, span=timedelta(hours=2), max_size=30), query_steps)
async def test_whatever_was_asked_before_every_answer_is_the_true_candles(trades: list[Trade], steps: list) -> None:
    uow, clock, get = setup(EPOCH_2026 + timedelta(minutes=50))
    await write(uow, *[Trade(t.symbol, t.ts, t.price, t.volume) for t in trades])
    for step in steps:
        if step[0] == "trade":
            await write(uow, Trade("AAPL", step[1], step[2], 1))
        elif step[0] == "wait":
            clock.advance(step[1])
        else:
            _, interval, window_ = step
            if BucketSpan.select(window_, interval, 10**9).count > 10_000:
                continue
            series = await get(CandleQuery("AAPL", interval, window_))
            span = series.span
            inside = [t for t in uow.store.trades if span.first <= t.ts < span.end]
            assert series.candles == candles_of(inside, interval)
            assert all(series.is_complete(c) == (c.end <= clock.now()) for c in series.candles)
