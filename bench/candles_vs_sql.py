"""GET /candles through real HTTP against the same aggregate by a hand-written SQL query; /trades pages/s.

Usage: .venv/bin/python bench/candles_vs_sql.py [--rounds 21] [--symbol AAPL] [--database-url URL]

Dataset: `mdp backfill --hours 24 --rate 20 --seed 7 --end 2026-11-28T00:00:00Z` (5 symbols,
24 hours, 20 trades per second per symbol, about 8.6 million trades), loaded once and reused.
Where: `--database-url` (that very database), else a database of its own on DATABASE_URL's
server, else an embedded PostgreSQL kept in bench/results/candles-pg.

Side by side, interleaved round by round:
  api  - GET /candles?interval=1m over the 24 hours for one symbol from `mdp api`
         (a separate process), timed until the whole body has arrived
  sql  - the same candles (OHLC by (ts, id), volume, count, VWAP rounded to 6 places)
         by one hand-written GROUP BY query over `trades`, run directly with psycopg
The symbol's stored candles are deleted first (as if its trades had been written with the
candle triggers disabled), so the first API call takes the REPAIR path (the seed's flow:
compute every bucket from the trades, store it; reported apart); p50s are over the
following rounds, which read what it stored. `bench/candles_write_through.py` measures
the normal case, where candles are written with the trades. Every API candle is checked against the SQL row.
Then `/trades` pages through one hour (limit 1000) and reports pages/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from adapters.postgres import migrations
from adapters.postgres.embedded import EmbeddedPostgres, free_port
from adapters.postgres.url import libpq_url

ROOT = Path(__file__).resolve().parents[1]
END = datetime(2026, 11, 28, tzinfo=UTC)
HOURS, RATE, SEED = 24, 20, 7
MDP = str(Path(sys.executable).with_name("mdp"))

HAND_WRITTEN = """
SELECT date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
       (array_agg(price ORDER BY ts, id))[1] AS open,
       max(price) AS high,
       min(price) AS low,
       (array_agg(price ORDER BY ts DESC, id DESC))[1] AS close,
       sum(volume) AS volume,
       count(*) AS trade_count,
       round(sum(price * volume) / sum(volume), 6) AS vwap
FROM trades
WHERE symbol = %s AND ts >= %s AND ts < %s
GROUP BY 1
ORDER BY 1
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--symbol", default="AAPL")
    parser.add_argument("--database-url", help="use exactly this database (the dataset is loaded there if missing)")
    args = parser.parse_args()
    server = None
    url = args.database_url
    if not url and os.environ.get("DATABASE_URL"):
        url = own_database(os.environ["DATABASE_URL"])
    if not url:
        server = EmbeddedPostgres(ROOT / "bench" / "results" / "candles-pg", port=0)
        server.start()
        url = server.url
    try:
        migrations.upgrade(url)
        ensure_dataset(url)
        run(url, args)
    finally:
        if server:
            server.stop()


def own_database(server_url: str) -> str:
    from sqlalchemy.engine import make_url

    name = "mdp_bench_candles"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def ensure_dataset(url: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        count = conn.execute(
            "SELECT count(*) FROM trades WHERE ts >= %s AND ts < %s", (END - timedelta(hours=HOURS), END)
        ).fetchone()[0]  # type: ignore[index]
    if count:
        print(f"dataset: {count:,} trades already loaded", file=sys.stderr)
        return
    command = [MDP, "backfill", "--hours", str(HOURS), "--rate", str(RATE), "--seed", str(SEED)]
    command += ["--end", END.isoformat()]
    print("dataset: " + " ".join(command[1:]), file=sys.stderr)
    subprocess.run(command, env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}, check=True)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE trades")


def start_api(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "INGESTION_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([MDP, "api"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the API did not become ready within 60 s")


def run(url: str, args: argparse.Namespace) -> None:
    start, end = END - timedelta(hours=HOURS), END
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DELETE FROM candles WHERE symbol = %s", (args.symbol,))
    api, base = start_api(url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client, psycopg.connect(libpq_url(url)) as conn:
            params = {"symbol": args.symbol, "interval": "1m", "start": z(start), "end": z(end)}
            cold, _ = timed(lambda: client.get("/candles", params=params))
            api_times, sql_times, rows = [], [], []
            for _ in range(args.rounds):
                elapsed, response = timed(lambda: client.get("/candles", params=params))
                api_times.append(elapsed)
                elapsed, rows = timed(lambda: conn.execute(HAND_WRITTEN, (args.symbol, start, end)).fetchall())
                sql_times.append(elapsed)
            check_same(response.json()["candles"], rows)
            pages, trades, paging = page_through_an_hour(client, args.symbol, start)
    finally:
        api.terminate()
        api.wait(timeout=30)
    report(cold, api_times, sql_times, len(rows), pages, trades, paging)


def page_through_an_hour(client: httpx.Client, symbol: str, start: datetime) -> tuple[int, int, list[float]]:
    window = {"symbol": symbol, "start": z(start + timedelta(hours=12)), "end": z(start + timedelta(hours=13))}
    elapsed_runs, pages, trades = [], 0, 0
    for _ in range(3):
        pages = trades = 0
        cursor = None
        began = time.perf_counter()
        while True:
            response = client.get("/trades", params={**window, **({"cursor": cursor} if cursor else {})})
            body = response.json()
            pages, trades = pages + 1, trades + len(body["trades"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        elapsed_runs.append(time.perf_counter() - began)
    return pages, trades, elapsed_runs


def check_same(api_candles: list[dict], rows: list[tuple]) -> None:
    """The API and the hand-written query agree on every field of every candle."""
    assert len(api_candles) == len(rows), (len(api_candles), len(rows))
    for candle, row in zip(api_candles, rows, strict=True):
        ours = (candle["bucket_start"], *(Decimal(candle[k]) for k in ("open", "high", "low", "close")))
        ours += (candle["volume"], candle["trade_count"], Decimal(candle["vwap"]))
        theirs = (z(row[0]), *row[1:5], int(row[5]), row[6], row[7])
        assert ours == theirs, (ours, theirs)


def timed(action):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def report(cold, api_times, sql_times, candles, pages, trades, paging) -> None:  # type: ignore[no-untyped-def]
    api_p50, sql_p50 = statistics.median(api_times), statistics.median(sql_times)
    paging_s = statistics.median(paging)
    print(f"\n/candles 1m over {HOURS}h, one symbol: {candles} candles, {len(api_times)} rounds (p50)")
    print("| path | p50 ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    print(
        f"| API (HTTP, stored candles) | {api_p50 * 1000:.1f} | {min(api_times) * 1000:.1f} | {max(api_times) * 1000:.1f} |"
    )
    print(
        f"| hand-written SQL, direct | {sql_p50 * 1000:.1f} | {min(sql_times) * 1000:.1f} | {max(sql_times) * 1000:.1f} |"
    )
    print(f"ratio API/SQL (p50): {api_p50 / sql_p50:.3f}   (first, cold API call: {cold * 1000:.0f} ms)")
    print(f"/trades through one hour: {pages} pages, {trades:,} trades, {paging_s:.2f} s (median of 3)")
    print(f"  {pages / paging_s:.1f} pages/s, {trades / paging_s:,.0f} trades/s")


if __name__ == "__main__":
    main()
