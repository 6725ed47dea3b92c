"""Many clients, overlapping ranges, trades arriving meanwhile: no error, no deadlock, only true candles stored."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from domain.candles import Interval, candles_of
from tests.integration.market_data_support import all_trades, as_json, insert_trades, stored_candles
from tests.integration.support import LiveServer

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_overlapping_concurrent_requests_while_late_trades_arrive(live_server: LiveServer, clean_db: str) -> None:
    rnd = random.Random(3)
    rows = [
        (T0 + timedelta(seconds=rnd.uniform(0, 7200)), f"{rnd.randint(9000, 11000) / 100:.2f}", 1) for _ in range(600)
    ]
    insert_trades(clean_db, "AAPL", rows)
    windows = [(rnd.choice(["1m", "5m"]), rnd.randint(0, 3600), rnd.randint(3600, 7200)) for _ in range(48)]
    stop = threading.Event()

    def late_trades() -> None:
        # Late trades into buckets that are being computed and stored right now.
        while not stop.is_set():
            insert_trades(clean_db, "AAPL", [(T0 + timedelta(seconds=rnd.uniform(0, 7200)), "100.00", 2)])

    def ask(window: tuple[str, int, int]) -> int:
        interval, lo, hi = window
        params = {"symbol": "AAPL", "interval": interval, "start": z(T0 + timedelta(seconds=lo))}
        params["end"] = z(T0 + timedelta(seconds=hi))
        return httpx.get(f"{live_server.base_url}/candles", params=params, timeout=30).status_code

    writer = threading.Thread(target=late_trades)
    writer.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(ask, windows))
    finally:
        stop.set()
        writer.join()
    assert statuses == [200] * len(windows)
    trades = all_trades(clean_db, "AAPL")
    for name in ("1m", "5m"):
        interval = Interval.parse(name)
        truth = {c.start: c for c in candles_of(trades, interval)}
        # Whatever was stored is the true candle of its bucket now (primary key: no duplicates).
        for stored in stored_candles(clean_db, "AAPL", interval):
            assert stored == truth[stored.start]
        params = {"symbol": "AAPL", "interval": name, "start": z(T0), "end": z(T0 + timedelta(hours=2))}
        body = httpx.get(f"{live_server.base_url}/candles", params=params).json()
        assert body["candles"] == [as_json(c) for c in truth.values()]
