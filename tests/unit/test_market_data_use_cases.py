"""GetCandles and ListTrades against in-memory fakes: stored candles served as they are, repair, watermark, tz, fill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.candles import CandleQuery, Fill, GetCandles
from application.trades import ListTrades, TradeQuery
from domain.candles import BucketSpan, Interval, candles_of
from domain.errors import InvalidValue, TooManyCandles, UnknownSymbol
from domain.ranges import TimeRange
from domain.series import Bar, bar_of
from domain.trades import StoredTrade, Trade, trade_key
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock, InMemoryMarketReads
from tests.oracles import expected_ohlcv
from tests.strategies import EPOCH_2026, instants, intervals, prices, time_ranges, trade_lists

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
M1 = Interval.parse("1m")
DAY = Interval.parse("1d")


def trade(seconds: float, price: str, volume: int = 1) -> Trade:
    return Trade("AAPL", T0 + timedelta(seconds=seconds), Decimal(price), volume)


def setup(now: datetime) -> tuple[FakeUnitOfWorkFactory, FrozenClock, GetCandles]:
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(now)
    return uow, clock, GetCandles(InMemoryMarketReads(uow.store), uow, clock, 1.0)


async def write(uow: FakeUnitOfWorkFactory, *trades: Trade, watermark: datetime | None = None) -> None:
    async with uow() as unit:
        await unit.trades.add_many(trades)
        if watermark is not None:
            await unit.watermark.advance(watermark)
        await unit.commit()


def computed(uow: FakeUnitOfWorkFactory) -> list[tuple[datetime, datetime]]:
    """Every span the use case computed from the trades (for the repair path or 1s), in order."""
    spans = [span for unit in uow.opened for spans in unit.candles.repaired_spans for span in spans]
    spans += [span for unit in uow.opened for spans in unit.trades.aggregated_spans for span in spans]
    return spans


def window(start: float, end: float) -> TimeRange:
    return TimeRange(T0 + timedelta(seconds=start), T0 + timedelta(seconds=end))


async def test_stored_candles_are_served_without_computing_anything_from_the_trades() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(1, "10.00"), trade(61, "11.00"), trade(62, "12.00", 3))
    series = await get(CandleQuery("AAPL", M1, window(0, 120)))
    assert [(b.start, b.close, b.volume) for b in series.bars] == [
        (T0, Decimal("10.00"), 1),
        (T0 + timedelta(minutes=1), Decimal("12.00"), 4),
    ]
    assert computed(uow) == []


async def test_only_buckets_without_a_stored_candle_are_looked_up_in_the_trades() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(1, "10.00"))
    await get(CandleQuery("AAPL", M1, window(0, 180)))
    assert computed(uow) == [(T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))]


async def test_trades_without_stored_candles_are_computed_stored_and_then_served_from_storage() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    uow.store.maintain_candles = False  # as if written with the triggers disabled
    await write(uow, trade(5, "10.00"), trade(30, "11.00"), trade(55, "9.00"))
    uow.store.maintain_candles = True
    (bar,) = (await get(CandleQuery("AAPL", M1, window(20, 40)))).bars
    assert (bar.open, bar.high, bar.low, bar.close, bar.trade_count) == (
        Decimal("10.00"),
        Decimal("11.00"),
        Decimal("9.00"),
        Decimal("9.00"),
        3,
    )
    assert uow.store.candles[("AAPL", "1m", T0)] == candles_of(uow.store.trades, M1)[0]
    before = len(computed(uow))
    assert (await get(CandleQuery("AAPL", M1, window(20, 40)))).bars == [bar]
    assert len(computed(uow)) == before


async def test_complete_follows_the_watermark_not_the_clock() -> None:
    uow, _, get = setup(T0 + timedelta(hours=5))
    await write(uow, trade(10, "10.00"), trade(70, "11.00"))
    series = await get(CandleQuery("AAPL", M1, window(0, 120)))
    assert [series.is_complete(b) for b in series.bars] == [False, False]  # no watermark: nothing is final
    await write(uow, watermark=T0 + timedelta(seconds=60))
    series = await get(CandleQuery("AAPL", M1, window(0, 120)))
    assert series.watermark == T0 + timedelta(seconds=60)
    assert [series.is_complete(b) for b in series.bars] == [True, False]


async def test_a_late_trade_changes_the_stored_candle_of_its_bucket() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(10, "10.00"))
    await get(CandleQuery("AAPL", M1, window(0, 60)))
    await write(uow, trade(59.999999, "15.00", 2))
    (bar,) = (await get(CandleQuery("AAPL", M1, window(0, 60)))).bars
    assert (bar.close, bar.high, bar.volume, bar.trade_count) == (Decimal("15.00"), Decimal("15.00"), 3, 2)


async def test_the_answer_carries_freshness_and_the_effective_span() -> None:
    _, _, get = setup(T0 + timedelta(hours=1))
    series = await get(CandleQuery("AAPL", Interval.parse("5m"), window(61, 601)))
    assert series.bars == []
    assert (series.first, series.end) == (T0, T0 + timedelta(minutes=15))
    assert series.freshness.status == "dead"  # no heartbeat ever: "ingestion is behind", not "no trades"


async def test_unknown_symbols_too_many_candles_and_tz_without_1d_are_refused() -> None:
    _, _, get = setup(T0)
    with pytest.raises(UnknownSymbol):
        await get(CandleQuery("NOPE", M1, window(0, 60)))
    with pytest.raises(TooManyCandles) as raised:
        await get(CandleQuery("AAPL", Interval.parse("1s"), window(0, 10_001)))
    assert raised.value.count == 10_001
    with pytest.raises(InvalidValue) as refused:
        await get(CandleQuery("AAPL", M1, window(0, 60), ZoneInfo("Asia/Kolkata")))
    assert refused.value.field == "tz"


async def test_one_second_candles_are_computed_from_the_trades() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(1.5, "10.00"), trade(1.7, "12.00"), trade(3, "11.00"))
    series = await get(CandleQuery("AAPL", Interval.parse("1s"), window(0, 5)))
    assert series.bars == [bar_of(c) for c in candles_of(uow.store.trades, Interval.parse("1s"))]


async def test_fill_previous_carries_the_close_across_empty_buckets() -> None:
    uow, _, get = setup(T0 + timedelta(hours=1))
    await write(uow, trade(1, "10.00"), trade(2, "10.50"), trade(190, "12.00"))
    bars = (await get(CandleQuery("AAPL", M1, window(0, 600), fill=Fill.PREVIOUS))).bars
    assert [(b.start - T0, b.open, b.close, b.volume, b.vwap, b.filled) for b in bars] == [
        (timedelta(0), Decimal("10.00"), Decimal("10.50"), 2, Decimal("10.250000"), False),
        (timedelta(minutes=1), Decimal("10.50"), Decimal("10.50"), 0, None, True),
        (timedelta(minutes=2), Decimal("10.50"), Decimal("10.50"), 0, None, True),
        (timedelta(minutes=3), Decimal("12.00"), Decimal("12.00"), 1, Decimal("12.000000"), False),
    ]


@given(trade_lists(start=EPOCH_2026, span=timedelta(minutes=10), max_size=40), st.integers(min_value=1, max_value=7))
async def test_paging_visits_every_trade_once_in_time_then_id_order(trades: list[Trade], limit: int) -> None:
    uow = FakeUnitOfWorkFactory()
    await write(uow, *trades)
    list_trades, seen, after = ListTrades(InMemoryMarketReads(uow.store)), [], None
    everything = TimeRange(EPOCH_2026, EPOCH_2026 + timedelta(minutes=10))
    while True:
        page = await list_trades(TradeQuery("AAPL", everything, limit, after))
        assert len(page.trades) <= limit
        seen.extend(page.trades)
        if page.next_after is None:
            break
        after = page.next_after
    stored = sorted(uow.store.trades, key=trade_key)
    assert seen == [StoredTrade(t.symbol, t.ts, t.price, t.volume, t.id or 0) for t in stored]
    assert candles_of([Trade(*t) for t in seen], M1) == candles_of(trades, M1)


async def test_a_page_limit_outside_one_to_ten_thousand_is_refused() -> None:
    with pytest.raises(InvalidValue) as raised:
        await ListTrades(InMemoryMarketReads(FakeUnitOfWorkFactory().store))(TradeQuery("AAPL", window(0, 1), 10_001))
    assert raised.value.field == "limit"


def local_day_bars(trades: list[Trade], zone: ZoneInfo) -> list[Bar]:
    """The oracle: trades grouped by their local calendar date, each group aggregated."""
    result = []
    ordered = sorted(trades, key=lambda t: t.ts)
    for day, group in groupby(ordered, key=lambda t: t.ts.astimezone(zone).date()):
        s = expected_ohlcv(group)
        assert s is not None
        start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        after = day + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=zone).astimezone(UTC)
        result.append(
            Bar(
                start,
                end,
                s.open,
                s.high,
                s.low,
                s.close,
                s.volume,
                s.trade_count,
                s.notional,
                s.vwap,
            )
        )
    return result


query_steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), intervals(max_seconds=86_400), time_ranges(span=timedelta(days=3)), st.none()),
        st.tuples(
            st.just("ask"),
            st.just(DAY),
            time_ranges(span=timedelta(days=3)),
            st.sampled_from(["America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham"]),
        ),
        st.tuples(st.just("trade"), instants(span=timedelta(days=3)), prices()),
    ),
    max_size=12,
)


@given(trade_lists(start=EPOCH_2026, span=timedelta(days=3), max_size=30), st.booleans(), query_steps)
async def test_whatever_was_written_before_every_answer_is_the_true_candles(
    trades: list[Trade], maintained: bool, steps: list
) -> None:
    """With candles kept by the store, or (maintained=False) a history loaded without them, as before the upgrade."""
    uow, _, get = setup(EPOCH_2026 + timedelta(days=1))
    uow.store.maintain_candles = maintained
    await write(uow, *[Trade(t.symbol, t.ts, t.price, t.volume) for t in trades])
    for step in steps:
        if step[0] == "trade":
            # A maintained write into a bucket of unmaintained history would be stale until a rebuild.
            if maintained:
                await write(uow, Trade("AAPL", step[1], step[2], 1))
            continue
        _, interval, window_, zone_name = step
        if zone_name is None and BucketSpan.select(window_, interval, 10**9).count > 10_000:
            continue
        zone = ZoneInfo(zone_name) if zone_name else None
        series = await get(CandleQuery("AAPL", interval, window_, zone))
        inside = [t for t in uow.store.trades if series.first <= t.ts < series.end]
        if zone is None:
            expected = [bar_of(c) for c in candles_of(inside, interval)]
        else:
            expected = local_day_bars(inside, zone)
        assert series.bars == expected
