"""/candles/stream over real HTTP: commit order, resume without gap or duplicate, finality, reset, overflow, limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import psycopg

from adapters.postgres.url import libpq_url
from tests.integration.market_data_support import insert_trades, set_watermark
from tests.integration.stream_support import StreamReader
from tests.integration.support import LiveServer, make_settings, wait_for

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CANDLE_FIELDS = {
    "bucket_start",
    "bucket_end",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trade_count",
    "vwap",
    "complete",
    "filled",
}


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def changes(url: str, symbol: str, interval: str) -> list[int]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT seq FROM candle_changes WHERE symbol = %s AND interval = %s ORDER BY seq", (symbol, interval)
        ).fetchall()
    return [r[0] for r in rows]


def connected(reader: StreamReader) -> StreamReader:
    assert reader.subscribed.wait(15), f"the stream did not start (status {reader.status})"
    return reader


def test_every_committed_change_arrives_in_order_with_the_fields_of_candles(
    live_server: LiveServer, clean_db: str
) -> None:
    reader = connected(StreamReader(f"{live_server.base_url}/candles/stream", {"symbol": "AAPL,MSFT"}).start())
    insert_trades(clean_db, "AAPL", [(at(1), "10.00", 1)])
    insert_trades(clean_db, "MSFT", [(at(2), "20.00", 2)])
    insert_trades(clean_db, "TSLA", [(at(3), "30.00", 3)])  # not subscribed
    insert_trades(clean_db, "AAPL", [(at(4), "11.00", 4)])
    reader.wait_for(lambda events: len([e for e in events if e.event == "candle"]) >= 3)
    reader.stop()
    got = reader.candles()
    ids = [e.id for e in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [(e.data["symbol"], e.data["candle"]["close"], e.data["candle"]["volume"]) for e in got] == [
        ("AAPL", "10.00", 1),
        ("MSFT", "20.00", 2),
        ("AAPL", "11.00", 5),
    ]
    assert all(e.data["interval"] == "1m" and set(e.data["candle"]) == CANDLE_FIELDS for e in got)
    (api,) = httpx.get(
        f"{live_server.base_url}/candles", params={"symbol": "AAPL", "interval": "1m", "start": z(T0), "end": z(at(60))}
    ).json()["candles"]
    assert got[-1].data["candle"] == api


def test_a_client_that_resumes_with_last_event_id_misses_nothing_and_sees_nothing_twice(
    live_server: LiveServer, clean_db: str
) -> None:
    url = f"{live_server.base_url}/candles/stream"
    first = connected(StreamReader(url, {"symbol": "AAPL", "interval": "5m"}).start())
    insert_trades(clean_db, "AAPL", [(at(1), "10.00", 1)])
    first.wait_for(lambda events: len(events) >= 1 and events[-1].event == "candle")
    first.stop()
    insert_trades(clean_db, "AAPL", [(at(1), "10.00", 1)])  # wakes the reader so it ends
    first.ended.wait(10)
    seen = {e.id for e in first.candles()}
    last = max(seen)
    for i in range(10):  # ten batches while disconnected
        insert_trades(clean_db, "AAPL", [(at(30 + 60 * i), f"{11 + i}.00", 1 + i)])
    again = StreamReader(url, {"symbol": "AAPL", "interval": "5m"}, headers={"Last-Event-ID": str(last)}).start()
    expected = [seq for seq in changes(clean_db, "AAPL", "5m") if seq > last]
    again.wait_for(lambda events: {e.id for e in events if e.event == "candle"} >= set(expected))
    again.stop()
    resumed = [e.id for e in again.candles()]
    assert resumed == expected  # no gap, no duplicate, in order
    state = {}
    for e in [*first.candles(), *again.candles()]:
        state[e.data["candle"]["bucket_start"]] = e.data["candle"]
    params = {"symbol": "AAPL", "interval": "5m", "start": z(T0), "end": z(at(900))}
    api = httpx.get(f"{live_server.base_url}/candles", params=params).json()["candles"]
    assert list(state.values()) == api


def test_a_bucket_is_sent_once_more_as_complete_when_the_watermark_passes_it(
    live_server: LiveServer, clean_db: str
) -> None:
    reader = connected(StreamReader(f"{live_server.base_url}/candles/stream", {"symbol": "AAPL"}).start())
    insert_trades(clean_db, "AAPL", [(at(10), "10.00", 1), (at(70), "11.00", 1)])
    set_watermark(clean_db, at(60))
    reader.wait_for(lambda events: any(e.data.get("candle", {}).get("complete") for e in events))
    reader.stop()
    final = [e.data["candle"] for e in reader.candles() if e.data["candle"]["complete"]]
    assert [(c["bucket_start"], c["close"]) for c in final] == [(z(T0), "10.00")]


def test_an_id_older_than_what_is_retained_gets_a_reset(live_server: LiveServer, clean_db: str) -> None:
    with psycopg.connect(libpq_url(clean_db)) as conn:
        conn.execute("UPDATE candle_change_horizon SET through = 100")
    try:
        reader = StreamReader(f"{live_server.base_url}/candles/stream", headers={"Last-Event-ID": "7"}, limit=1)
        reader.start().wait_for(lambda events: len(events) >= 1)
        assert reader.events[0].event == "reset"
    finally:
        with psycopg.connect(libpq_url(clean_db)) as conn:
            conn.execute("UPDATE candle_change_horizon SET through = 0")


def test_bad_parameters_are_a_400_before_the_stream_starts(live_server: LiveServer) -> None:
    for params, name in (
        ({"symbol": "AAPL,NOPE"}, "symbol"),
        ({"interval": "2m"}, "interval"),
        ({"interval": "1s"}, "interval"),
        ({"last_event_id": "abc"}, "last_event_id"),
        ({"last_event_id": "\u00b2"}, "last_event_id"),  # a digit to str.isdigit, not to int()
        ({"last_event_id": "9" * 40}, "last_event_id"),
    ):
        response = httpx.get(f"{live_server.base_url}/candles/stream", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["invalid_params"][0]["name"] == name


def test_a_slow_consumer_gets_overflow_and_others_get_everything(clean_db: str) -> None:
    settings = make_settings(clean_db, stream_queue_size=5)
    with LiveServer(settings, clean_db) as server:
        url = f"{server.base_url}/candles/stream"
        slow = connected(StreamReader(url, {"symbol": "AAPL"}).start())
        # A hundred minutes of trades in one statement: a hundred changes at once, more than 5 can queue.
        insert_trades(clean_db, "AAPL", [(at(60 * i), "10.00", 1) for i in range(100)])
        slow.wait_for(lambda events: any(e.event == "overflow" for e in events))
        assert slow.ended.wait(10)
        fresh = StreamReader(url, {"symbol": "AAPL"}, headers={"Last-Event-ID": "0"}).start()
        fresh.wait_for(lambda events: len([e for e in events if e.event == "candle"]) >= 100)
        fresh.stop()


def test_streams_beyond_the_limit_are_refused_with_retry_after(clean_db: str) -> None:
    with LiveServer(make_settings(clean_db, stream_max_clients=1), clean_db) as server:
        first = connected(StreamReader(f"{server.base_url}/candles/stream").start())
        response = httpx.get(f"{server.base_url}/candles/stream")
        assert response.status_code == 503 and response.headers["retry-after"]
        first.stop()


def test_a_terminated_listen_connection_is_reopened_and_nothing_is_missed(
    live_server: LiveServer, clean_db: str
) -> None:
    reader = connected(StreamReader(f"{live_server.base_url}/candles/stream", {"symbol": "AAPL"}).start())
    with psycopg.connect(libpq_url(clean_db), autocommit=True) as conn:
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mdp-listen'"
        ).fetchall()
    assert killed
    for i in range(5):
        insert_trades(clean_db, "AAPL", [(at(60 * i), "10.00", 1)])
    expected = changes(clean_db, "AAPL", "1m")
    reader.wait_for(lambda events: [e.id for e in events if e.event == "candle"] == expected, timeout=20)
    reader.stop()


def test_events_arrive_within_two_ingestion_intervals_of_their_commit(clean_db: str) -> None:
    interval = 0.25
    settings = make_settings(clean_db, ingestion_enabled=True, ingestion_interval_seconds=interval)
    with LiveServer(settings, clean_db) as server:
        wait_for(lambda: changes(clean_db, "AAPL", "1m"))
        reader = connected(StreamReader(f"{server.base_url}/candles/stream", {"symbol": "AAPL"}).start())
        reader.wait_for(lambda events: len(events) >= 12)
        reader.stop()
    with psycopg.connect(libpq_url(clean_db)) as conn:
        committed = dict(conn.execute("SELECT seq, extract(epoch FROM committed_at) FROM candle_changes").fetchall())
    got = reader.candles()
    offset = time.time() - time.monotonic()
    lags = [e.at + offset - float(committed[e.id]) for e in got if e.id in committed]
    assert lags and max(lags) < 2 * interval + 0.2, lags
    assert [e.id for e in got] == sorted({e.id for e in got})
    assert msgspec.json.decode(msgspec.json.encode(got[-1].data))["symbol"] == "AAPL"


def test_changes_older_than_the_retention_are_pruned_and_resuming_before_them_resets(
    live_server: LiveServer, clean_db: str
) -> None:
    with psycopg.connect(libpq_url(clean_db), autocommit=True) as conn:
        conn.execute("UPDATE candle_change_horizon SET retention = interval '1 second', through = 0")
    try:
        insert_trades(clean_db, "AAPL", [(at(1), "10.00", 1)])
        old = changes(clean_db, "AAPL", "1m")
        time.sleep(1.2)
        set_watermark(clean_db, at(30))
        set_watermark(clean_db, at(90))  # into the next minute: the leader's once-a-minute prune
        left = changes(clean_db, "AAPL", "1m")
        assert not set(old) & set(left) and all(seq > max(old) for seq in left)  # only the new final event stays
        reader = StreamReader(
            f"{live_server.base_url}/candles/stream", headers={"Last-Event-ID": str(old[0] - 1)}, limit=1
        )
        reader.start().wait_for(lambda events: len(events) >= 1)
        assert reader.events[0].event == "reset"
    finally:
        with psycopg.connect(libpq_url(clean_db), autocommit=True) as conn:
            conn.execute("UPDATE candle_change_horizon SET retention = interval '1 hour', through = 0")
