"""/candles over real HTTP against real PostgreSQL: values one by one, edge buckets, the open bucket, late trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from adapters.postgres.url import libpq_url
from domain.candles import INTERVALS, LONGEST_INTERVAL, Interval, bucket_start, candles_of
from tests.integration.market_data_support import (
    all_trades,
    as_json,
    insert_trades,
    set_watermark,
    stored_candles,
    stored_updated_at,
)
from tests.integration.support import LiveServer

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
M1, M5 = Interval.parse("1m"), Interval.parse("5m")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def delivered_past_t0(clean_db: str) -> None:
    """Ingestion has delivered everything up to two days after T0: candles around T0 are final."""
    set_watermark(clean_db, T0 + timedelta(days=2))


def candles(server: LiveServer, interval: str, start: str, end: str, symbol: str = "AAPL") -> dict:
    response = httpx.get(
        f"{server.base_url}/candles", params={"symbol": symbol, "interval": interval, "start": start, "end": end}
    )
    assert response.status_code == 200, response.text
    return response.json()


KNOWN = [
    (at(0), "100.00", 10),  # first of minute 0: the open
    (at(20), "101.50", 5),
    (at(20), "99.25", 7),  # same instant: the later id comes later
    (at(59.999999), "100.10", 3),  # last microsecond of minute 0: the close
    (at(60), "102.00", 1),  # first instant of minute 1
    (at(125), "98.00", 4),
    (at(125), "98.01", 6),  # a tie that decides the close of minute 2
]


def test_candles_are_exact_value_by_value(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", KNOWN)
    body = candles(live_server, "1m", z(T0), z(at(180)))
    assert (body["symbol"], body["interval"], body["start"], body["end"]) == ("AAPL", "1m", z(T0), z(at(180)))
    assert body["candles"] == [
        {
            "bucket_start": "2026-11-20T10:00:00Z",
            "bucket_end": "2026-11-20T10:01:00Z",
            "open": "100.00",
            "high": "101.50",
            "low": "99.25",
            "close": "100.10",
            "volume": 25,
            "trade_count": 4,
            # (1000 + 507.5 + 694.75 + 300.3) / 25 = 2502.55 / 25
            "vwap": "100.102000",
            "complete": True,
            "filled": False,
        },
        {
            "bucket_start": "2026-11-20T10:01:00Z",
            "bucket_end": "2026-11-20T10:02:00Z",
            "open": "102.00",
            "high": "102.00",
            "low": "102.00",
            "close": "102.00",
            "volume": 1,
            "trade_count": 1,
            "vwap": "102.000000",
            "complete": True,
            "filled": False,
        },
        {
            "bucket_start": "2026-11-20T10:02:00Z",
            "bucket_end": "2026-11-20T10:03:00Z",
            "open": "98.00",
            "high": "98.01",
            "low": "98.00",
            "close": "98.01",
            "volume": 10,
            "trade_count": 2,
            # 980.06 / 10
            "vwap": "98.006000",
            "complete": True,
            "filled": False,
        },
    ]
    assert set(body["freshness"]) >= {"status", "heartbeat_age_seconds", "stale_after_seconds"}


def test_every_interval_agrees_with_the_domain(live_server: LiveServer, clean_db: str) -> None:
    trades = insert_trades(clean_db, "AAPL", KNOWN)
    for interval in ("1s", "1m", "5m", "15m", "1h", "1d"):
        body = candles(live_server, interval, z(at(-3600)), z(at(3600)))
        assert body["candles"] == [as_json(c) for c in candles_of(trades, Interval.parse(interval))], interval


def test_edge_buckets_are_whole_candles(live_server: LiveServer, clean_db: str) -> None:
    trades = insert_trades(clean_db, "AAPL", KNOWN)
    # From inside minute 0 to inside minute 2: all three minutes, each with ALL its trades.
    body = candles(live_server, "1m", z(at(30)), z(at(120.5)))
    expected = candles_of(trades, M1)
    assert (body["start"], body["end"]) == (z(T0), z(at(180)))
    assert body["candles"] == [as_json(c) for c in expected]
    assert stored_candles(clean_db, "AAPL", M1) == expected
    # An end exactly on a bucket edge excludes that bucket.
    assert [c["bucket_start"] for c in candles(live_server, "1m", z(at(30)), z(at(120)))["candles"]] == [
        z(T0),
        z(at(60)),
    ]


def test_times_with_offsets_and_epoch_millis_mean_the_same_instants(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", KNOWN)
    plain = candles(live_server, "1m", z(T0), z(at(180)))
    offset = candles(live_server, "1m", "2026-11-20T11:00:00+01:00", "2026-11-20T05:33:00-04:30")
    millis = candles(live_server, "1m", str(int(T0.timestamp() * 1000)), str(int(at(180).timestamp() * 1000)))
    assert plain["candles"] == offset["candles"] == millis["candles"]
    assert offset["start"] == millis["start"] == "2026-11-20T10:00:00Z"


def test_a_late_trade_changes_the_stored_complete_candle(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", KNOWN)
    before = candles(live_server, "5m", z(T0), z(at(300)))["candles"]
    insert_trades(clean_db, "AAPL", [(at(299.5), "120.00", 5)])
    after = candles(live_server, "5m", z(T0), z(at(300)))["candles"]
    assert (before[0]["high"], before[0]["trade_count"]) == ("102.00", 7)
    assert (after[0]["high"], after[0]["close"], after[0]["trade_count"]) == ("120.00", "120.00", 8)
    assert stored_candles(clean_db, "AAPL", M5) == candles_of(all_trades(clean_db, "AAPL"), M5)


def test_reading_candles_writes_nothing_and_other_symbols_move_nothing(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", KNOWN)
    first = stored_updated_at(clean_db, "AAPL", M1)
    assert len(first) == 3  # written with the trades, before anyone asked
    candles(live_server, "1m", z(T0), z(at(180)))
    insert_trades(clean_db, "MSFT", [(at(10), "300.00", 1)])  # another symbol: nothing of AAPL moves
    candles(live_server, "1m", z(T0), z(at(180)))
    assert stored_updated_at(clean_db, "AAPL", M1) == first


def test_the_open_bucket_is_incomplete_and_current(live_server: LiveServer, clean_db: str) -> None:
    hour = Interval.parse("1h")
    now = datetime.now(UTC)
    start = bucket_start(now, hour)
    insert_trades(clean_db, "AAPL", [(start, "50.00", 1)])
    window = (z(start), z(start + timedelta(hours=1)))
    (open_candle,) = candles(live_server, "1h", *window)["candles"]
    assert open_candle["complete"] is False and open_candle["bucket_end"] == z(start + timedelta(hours=1))
    written = stored_updated_at(clean_db, "AAPL", hour)[start]
    insert_trades(clean_db, "AAPL", [(datetime.now(UTC), "51.00", 2)])
    (again,) = candles(live_server, "1h", *window)["candles"]
    assert (again["close"], again["volume"], again["complete"]) == ("51.00", 3, False)
    assert stored_updated_at(clean_db, "AAPL", hour)[start] > written
    assert stored_candles(clean_db, "AAPL", hour) == candles_of(all_trades(clean_db, "AAPL"), hour)


def test_empty_buckets_are_omitted(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", [(at(0), "10.00", 1), (at(600), "11.00", 1)])
    body = candles(live_server, "1m", z(T0), z(at(660)))
    assert [c["bucket_start"] for c in body["candles"]] == [z(T0), z(at(600))]


BAD_INPUT = [
    ({"interval": "2m"}, "interval"),
    ({"symbol": "NOPE"}, "symbol"),
    ({"start": "2026-11-20T10:00:00"}, "start"),  # naive: never guessed
    ({"start": "yesterday"}, "start"),
    ({"end": "2026-11-20T10:00:00Z"}, "end"),  # end == start
    ({"end": "2026-11-20T09:00:00Z"}, "end"),  # end < start
    ({"interval": "1s", "end": "2026-11-21T10:00:00Z"}, "end"),  # 86,400 candles: over the maximum
    ({"start": "99999999999999999999"}, "start"),
    ({"end": "2999-01-01T00:00:00Z"}, "end"),
    ({"start": None}, "start"),
]


def test_bad_input_is_a_400_naming_the_parameter(live_server: LiveServer) -> None:
    good = {"symbol": "AAPL", "interval": "1m", "start": "2026-11-20T10:00:00Z", "end": "2026-11-20T11:00:00Z"}
    for change, param in BAD_INPUT:
        params = {k: v for k, v in {**good, **change}.items() if v is not None}
        response = httpx.get(f"{live_server.base_url}/candles", params=params)
        assert response.status_code == 400, change
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["invalid_params"][0]["name"] == param, change
        assert body["invalid_params"][0]["reason"]


def test_too_many_candles_says_how_many_and_the_maximum(live_server: LiveServer) -> None:
    params = {"symbol": "AAPL", "interval": "1m", "start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"}
    body = httpx.get(f"{live_server.base_url}/candles", params=params).json()
    assert "10,080 candles" in body["detail"] and "10,000" in body["detail"]


def test_updates_deletes_and_late_trades_invalidate_every_interval(live_server: LiveServer, clean_db: str) -> None:
    # The latest instant of a longest-interval bucket: the farthest a trade can be from its candles' starts.
    last = bucket_start(T0, LONGEST_INTERVAL) + LONGEST_INTERVAL.length - timedelta(microseconds=1)

    def ask_every_interval() -> None:
        for interval in INTERVALS:
            lo = max(bucket_start(T0, LONGEST_INTERVAL), last - interval.length * 9_999)
            candles(live_server, interval.name, z(lo), z(last + timedelta(microseconds=1)))

    insert_trades(clean_db, "AAPL", [*KNOWN, (last - timedelta(hours=1), "10.00", 1)])
    writes = [
        lambda: insert_trades(clean_db, "AAPL", [(last, "500.00", 9)]),
        lambda: execute(clean_db, "UPDATE trades SET price = 501.00 WHERE ts = %s", last),
        lambda: execute(clean_db, "DELETE FROM trades WHERE ts = %s", last),
    ]
    for write in writes:
        ask_every_interval()
        write()
        trades = all_trades(clean_db, "AAPL")
        for interval in INTERVALS:
            truth = {c.start: c for c in candles_of(trades, interval)}
            assert all(s == truth[s.start] for s in stored_candles(clean_db, "AAPL", interval)), interval


def execute(url: str, sql: str, *params: object) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(sql, params)
