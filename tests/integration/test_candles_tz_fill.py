"""/candles over real HTTP and PostgreSQL: local days in IANA zones (DST), fill=previous, complete by watermark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby, pairwise
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.postgres.url import libpq_url
from domain.candles import Interval, candles_of
from domain.trades import Trade
from tests.integration.market_data_support import as_json, insert_trades, set_watermark
from tests.integration.support import LiveServer
from tests.oracles import expected_ohlcv

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ask(server: LiveServer, interval: str, start: str, end: str, **extra: str) -> httpx.Response:
    params = {"symbol": "AAPL", "interval": interval, "start": start, "end": end, **extra}
    return httpx.get(f"{server.base_url}/candles", params=params)


def candles(server: LiveServer, interval: str, start: str, end: str, **extra: str) -> dict:
    response = ask(server, interval, start, end, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day` as a UTC instant (computed here, not by the service)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def expected_bar(trades: Sequence[Trade], start: datetime, end: datetime, watermark: datetime | None) -> dict:
    s = expected_ohlcv(trades)
    assert s is not None
    return {
        "bucket_start": z(start),
        "bucket_end": z(end),
        "open": str(s.open),
        "high": str(s.high),
        "low": str(s.low),
        "close": str(s.close),
        "volume": s.volume,
        "trade_count": s.trade_count,
        "vwap": str(s.vwap),
        "complete": watermark is not None and end <= watermark,
        "filled": False,
    }


def local_day_bars(trades: Sequence[Trade], zone: ZoneInfo, days: set[date], watermark: datetime | None) -> list:
    """One expected candle per selected local date, from exactly the trades of that date."""

    def local_date(trade: Trade) -> date:
        return trade.ts.astimezone(zone).date()

    return [
        expected_bar(list(group), midnight(day, zone), midnight(day + timedelta(days=1), zone), watermark)
        for day, group in groupby(sorted(trades, key=lambda t: (t.ts, t.id)), key=local_date)
        if day in days
    ]


def edge_rows(zone: ZoneInfo, first: date, count: int) -> list[tuple[datetime, str, int]]:
    """Trades at each local midnight, one microsecond before it, two hours after it and at UTC midnight."""
    moments = set()
    for i in range(-1, count + 1):
        day = first + timedelta(days=i)
        m = midnight(day, zone)
        moments |= {m, m - timedelta(microseconds=1), m + timedelta(hours=2), datetime.combine(day, time(0), UTC)}
    return [(ts, f"{100 + (i * 37) % 500 / 100:.2f}", 1 + (i * 7) % 13) for i, ts in enumerate(sorted(moments))]


LOCAL_DAYS = [  # zone, first local day, the special day's literal UTC bounds
    ("America/New_York", date(2026, 3, 7), ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z")),  # 23 h
    ("America/New_York", date(2026, 10, 31), ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z")),  # 25 h
    ("Asia/Kolkata", date(2026, 6, 14), ("2026-06-14T18:30:00Z", "2026-06-15T18:30:00Z")),
    ("Asia/Kathmandu", date(2026, 6, 14), ("2026-06-14T18:15:00Z", "2026-06-15T18:15:00Z")),
]


@pytest.mark.parametrize(("name", "first", "special"), LOCAL_DAYS)
def test_local_days_hold_exactly_the_trades_of_their_local_date(
    live_server: LiveServer, clean_db: str, name: str, first: date, special: tuple[str, str]
) -> None:
    zone = ZoneInfo(name)
    trades = insert_trades(clean_db, "AAPL", edge_rows(zone, first, 4))
    watermark = datetime.fromisoformat(special[1])  # the special day and those before it are final
    set_watermark(clean_db, watermark)
    # From local noon of the first day to local noon of the fourth: four whole local days.
    start = datetime.combine(first, time(12), tzinfo=zone).isoformat()
    end = datetime.combine(first + timedelta(days=3), time(12), tzinfo=zone).isoformat()
    body = candles(live_server, "1d", start, end, tz=name)
    assert (body["tz"], body["start"], body["end"]) == (
        name,
        z(midnight(first, zone)),
        z(midnight(first + timedelta(days=4), zone)),
    )
    days = {first + timedelta(days=i) for i in range(4)}
    assert body["candles"] == local_day_bars(trades, zone, days, watermark)
    assert len(body["candles"]) == 4
    (bar,) = [c for c in body["candles"] if c["bucket_start"] == special[0]]
    assert (bar["bucket_end"], bar["complete"]) == (special[1], True)


def test_without_tz_days_are_utc_days(live_server: LiveServer, clean_db: str) -> None:
    trades = insert_trades(clean_db, "AAPL", edge_rows(NY, date(2026, 3, 7), 3))
    day = Interval.parse("1d")
    lo, hi = datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    body = candles(live_server, "1d", "2026-03-07T12:00:00Z", z(hi))
    assert (body["tz"], body["start"], body["end"], body["watermark"]) == ("UTC", z(lo), z(hi), None)
    expected = [as_json(c, complete=False) for c in candles_of(trades, day) if lo <= c.start < hi]
    assert body["candles"] == expected and len(expected) == 3
    assert candles(live_server, "1d", "2026-03-07T12:00:00Z", z(hi), tz="UTC")["candles"] == expected


@pytest.mark.parametrize(
    ("interval", "extra", "name"),
    [
        ("1h", {"tz": "America/New_York"}, "tz"),
        ("1m", {"tz": "UTC"}, "tz"),
        ("1d", {"tz": "Mars/Base"}, "tz"),
        ("1d", {"tz": "../etc/passwd"}, "tz"),
        ("1m", {"fill": "next"}, "fill"),
        ("1m", {"fill": ""}, "fill"),
    ],
)
def test_bad_tz_or_fill_is_a_400_naming_it(live_server: LiveServer, interval: str, extra: dict, name: str) -> None:
    response = ask(live_server, interval, z(T0), z(T0 + timedelta(days=2)), **extra)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["invalid_params"][0]["name"] == name


def test_fill_previous_by_example(live_server: LiveServer, clean_db: str) -> None:
    at = [T0, T0 + timedelta(seconds=30), T0 + timedelta(minutes=3), T0 + timedelta(minutes=5, seconds=59)]
    insert_trades(clean_db, "AAPL", [(at[0], "10.00", 1), (at[1], "10.50", 3), (at[2], "12.00", 2), (at[3], "9.99", 1)])
    body = candles(live_server, "1m", z(T0 - timedelta(minutes=5)), z(T0 + timedelta(minutes=9)), fill="previous")
    assert body["fill"] == "previous"

    def bar(minute: int, o: str, h: str, lo: str, c: str, v: int, n: int, w: str | None) -> dict:
        s = T0 + timedelta(minutes=minute)
        bounds = {"bucket_start": z(s), "bucket_end": z(s + timedelta(minutes=1))}
        prices = {"open": o, "high": h, "low": lo, "close": c}
        return bounds | prices | {"volume": v, "trade_count": n, "vwap": w, "complete": False, "filled": w is None}

    assert body["candles"] == [
        bar(0, "10.00", "10.50", "10.00", "10.50", 4, 2, "10.375000"),  # (10 + 31.5) / 4
        bar(1, "10.50", "10.50", "10.50", "10.50", 0, 0, None),
        bar(2, "10.50", "10.50", "10.50", "10.50", 0, 0, None),
        bar(3, "12.00", "12.00", "12.00", "12.00", 2, 1, "12.000000"),
        bar(4, "12.00", "12.00", "12.00", "12.00", 0, 0, None),
        bar(5, "9.99", "9.99", "9.99", "9.99", 1, 1, "9.990000"),
    ]


def reset_trades(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE trades, candles RESTART IDENTITY")


TRADE_ROWS = st.lists(
    st.tuples(st.integers(0, 4 * 3600 - 1), st.integers(1, 99_999), st.integers(1, 1_000)), min_size=1, max_size=12
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rows=TRADE_ROWS, interval=st.sampled_from(["1m", "5m", "15m"]))
def test_fill_previous_fills_exactly_the_gaps(
    live_server: LiveServer, clean_db: str, rows: list, interval: str
) -> None:
    reset_trades(clean_db)
    rows = [(T0 + timedelta(seconds=s), f"{cents / 100:.2f}", v) for s, cents, v in rows]
    trades = insert_trades(clean_db, "AAPL", rows)
    window = (z(T0 - timedelta(hours=1)), z(T0 + timedelta(hours=5)))
    plain = candles(live_server, interval, *window)["candles"]
    filled = candles(live_server, interval, *window, fill="previous")["candles"]
    real = candles_of(trades, Interval.parse(interval))
    assert plain == [as_json(c, complete=False) for c in real]
    length = Interval.parse(interval).length
    assert len(filled) == (real[-1].start - real[0].start) // length + 1
    assert [c for c in filled if not c["filled"]] == plain
    assert filled[0] == plain[0] and filled[-1] == plain[-1]
    for previous, bar in pairwise(filled):
        assert bar["bucket_start"] == previous["bucket_end"]
        assert datetime.fromisoformat(bar["bucket_end"]) - datetime.fromisoformat(bar["bucket_start"]) == length
        if bar["filled"]:
            close = previous["close"]
            assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (close, close, close, close)
            assert (bar["volume"], bar["trade_count"], bar["vwap"], bar["complete"]) == (0, 0, None, False)


def test_fill_previous_with_tz_fills_the_23_hour_day(live_server: LiveServer, clean_db: str) -> None:
    mar7, mar9 = datetime(2026, 3, 7, 15, tzinfo=UTC), datetime(2026, 3, 9, 15, tzinfo=UTC)
    trades = insert_trades(clean_db, "AAPL", [(mar7, "50.00", 2), (mar7, "51.25", 1), (mar9, "49.00", 4)])
    window = ("2026-03-07T00:00:00-05:00", "2026-03-10T00:00:00-04:00")
    plain = candles(live_server, "1d", *window, tz="America/New_York")
    body = candles(live_server, "1d", *window, tz="America/New_York", fill="previous")
    days = {date(2026, 3, 7), date(2026, 3, 9)}
    assert plain["candles"] == local_day_bars(trades, NY, days, None)
    first, gap, last = body["candles"]
    assert (first, last) == tuple(plain["candles"])
    assert gap == {
        "bucket_start": "2026-03-08T05:00:00Z",
        "bucket_end": "2026-03-09T04:00:00Z",
        **dict.fromkeys(("open", "high", "low", "close"), "51.25"),
        **{"volume": 0, "trade_count": 0, "vwap": None, "complete": False, "filled": True},
    }


def test_fill_previous_counts_against_the_candle_limit(live_server: LiveServer, clean_db: str) -> None:
    last = T0 + timedelta(minutes=9_999)
    insert_trades(clean_db, "AAPL", [(T0, "10.00", 1), (last, "11.00", 1)])
    body = candles(live_server, "1m", z(T0), z(last + timedelta(minutes=1)), fill="previous")
    assert len(body["candles"]) == 10_000 and sum(not c["filled"] for c in body["candles"]) == 2
    response = ask(live_server, "1m", z(T0), z(last + timedelta(minutes=2)), fill="previous")
    assert response.status_code == 400 and "10,001 candles" in response.json()["detail"]


def test_complete_follows_the_watermark_not_the_clock(live_server: LiveServer, clean_db: str) -> None:
    trades = insert_trades(clean_db, "AAPL", [(T0 + timedelta(seconds=s), "20.00", 1) for s in (0, 61, 125, 190)])
    window = (z(T0), z(T0 + timedelta(minutes=4)))
    body = candles(live_server, "1m", *window)
    assert body["watermark"] is None and len(body["candles"]) == 4
    assert all(c["complete"] is False for c in body["candles"])  # all closed by the clock days ago
    for mark in (T0 + timedelta(minutes=2), T0 + timedelta(seconds=150.5), T0 + timedelta(days=1)):
        set_watermark(clean_db, mark)
        body = candles(live_server, "1m", *window)
        assert body["watermark"] == z(mark)
        assert body["candles"] == [as_json(c, complete=c.end <= mark) for c in candles_of(trades, Interval.parse("1m"))]
