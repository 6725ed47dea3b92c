"""Acceptance benchmark of write-through candles: reads against SQL, ingestion and backfill against no candles.

Full run (many minutes; about 8.6 million trades are loaded):
    .venv/bin/python bench/candles_write_through.py
Quick smoke run (a minute or two):
    .venv/bin/python bench/candles_write_through.py --hours 1 --rate 5 --days 3 --days-rate 0.05 \\
        --rounds 3 --ingest-batches 20 --ingest-block 5 --ingest-preload-hours 0.1 --copy-hours 0.05 --copy-rounds 1
One part only: --parts reads | ingest | backfill (comma-separated; parts 3-4 at full size take about a minute).

Where: a database of its own (per part) on DATABASE_URL's server when set, else on a
throw-away embedded PostgreSQL (bench/harness.py); every scratch database is dropped.

Setup: the real CLI loads the history, as a subprocess with DATABASE_URL set:
  1. `mdp backfill --hours 24 --rate 20 --seed N` into the empty database: it ends now;
  2. `mdp backfill --days 30 --rate 0.5 --seed N+1`: a backfill ends at the oldest stored
     trade, so this one covers the 30 days before the first. The opposite order would put
     the 24 h a month in the past. So "the last 24 h" is all 20 trades/s, and "the last
     30 local days" is 29 days at 0.5/s plus the busy last day: every bucket is populated.
Then the real service, `mdp run` (API + ingestion, INGESTION_INTERVAL_SECONDS=1,
INGESTION_TRADES_PER_TICK=--rate), on a free port, writes a batch every second throughout.

Measured, in this order:
  1/2. GET /candles over HTTP, timed until the whole body has arrived, against the same
       candles from a hand-written GROUP BY over `trades` run directly with psycopg (open and
       close by (ts, id), exact VWAP half up): interval=1m and 1h over the last --hours,
       and interval=1d&tz=--tz over the last --days local days. For each: the service is
       restarted, /health/ready awaited, and exactly ONE call timed (first call); then
       --rounds rounds interleave one API call and one SQL query (p50s). Every API answer
       (the first call's too) is checked field by field against the SQL rows, on the buckets
       that ended at or before the watermark read before the API call (the open bucket
       may move under ingestion between the two reads).
  3.   Ingestion batch commit, in a scratch database of its own: batches of ~1 s of trades
       (5 symbols x --rate/s) after the newest stored trade, each one transaction of the
       app's statements (INSERT ... SELECT FROM unnest, watermark upsert, heartbeat read and
       upsert, COMMIT), in alternating blocks: A with trigger trades_candles_insert, B with it
       disabled (ALTER TABLE ... DISABLE TRIGGER, outside the timing; the first batch after
       each switch is a warm-up and not counted). Median and p95 of each.
  4.   Backfill with candles against a raw COPY of the same rows, in a scratch database of
       its own: PostgresTradeCopier.copy (trigger on, its work_mem) against COPY of the
       pre-formatted text with the trigger disabled; also the copier with the trigger
       disabled, which separates the trigger from the copier's formatting. TRUNCATE and
       CHECKPOINT before each load, order alternating, median of --copy-rounds.
A summary table ends the run: measurement | write-through | baseline | ratio | target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from psycopg.rows import dict_row

from adapters.postgres.bulk import ADVANCE_WATERMARK, COPY_TRADES, PostgresTradeCopier, copy_text
from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url
from adapters.synthetic.source import SyntheticTradeSource
from app_ingestion import app_batches
from domain.trades import SUPPORTED_SYMBOLS, Trade
from entrypoints.backfill import chunks
from harness import drop_database, own_database, postgres_server

_MDP_SCRIPT = Path(sys.executable).with_name("mdp")
MDP = [str(_MDP_SCRIPT)] if _MDP_SCRIPT.exists() else [sys.executable, "-m", "entrypoints"]
TRIGGER = "trades_candles_insert"


def say(*parts: object) -> None:
    print(*parts, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--hours", type=float, default=24.0, help="busy history and the 1m/1h read window, hours (24)")
    add("--rate", type=float, default=20.0, help="trades/s per symbol: busy history, live ingestion, parts 3-4")
    add("--days", type=int, default=30, help="quiet history and the tz read window, local days (30)")
    add("--days-rate", "--days30-rate", type=float, default=0.5, help="trades/s per symbol of the quiet history")
    add("--seed", type=int, default=7)
    add("--symbol", default="AAPL")
    add("--tz", default="America/New_York")
    add("--rounds", type=int, default=20, help="API calls and SQL queries per read measurement (p50)")
    add("--ingest-batches", type=int, default=200, help="counted batches per arm, part 3")
    add("--ingest-block", type=int, default=10, help="batches per block before switching arm, part 3")
    add("--ingest-preload-hours", type=float, default=1.0, help="history stored before part 3's batches")
    add("--copy-hours", type=float, default=1.0, help="rows per load in part 4: hours x 5 symbols x --rate")
    add("--copy-rounds", type=int, default=3)
    add(
        "--parts",
        default="reads,ingest,backfill",
        help="comma-separated subset of reads (1-2), ingest (3), backfill (4)",
    )
    args = parser.parse_args()
    if not args.parts or not set(args.parts.split(",")) <= {"reads", "ingest", "backfill"}:
        parser.error(f"--parts {args.parts!r}: a comma-separated subset of reads,ingest,backfill")
    return args


@dataclass
class Row:
    """One line of the summary."""

    measurement: str
    ours: str
    baseline: str
    ratio: float | None
    target: str = "-"
    passed: bool | None = None


def main() -> None:
    args = parse_args()
    rows: list[Row] = []
    began = time.perf_counter()
    parts: dict[str, Callable[[str, argparse.Namespace], list[Row]]] = {
        "reads": reads,
        "ingest": ingestion,
        "backfill": backfill,
    }
    with postgres_server() as server_url:
        for name in args.parts.split(","):
            rows += in_scratch(server_url, f"mdp_bench_wt_{name}", parts[name], args)
    summary(rows)
    say(f"\n(total {time.perf_counter() - began:.0f} s)")


def in_scratch(
    server_url: str, prefix: str, part: Callable[[str, argparse.Namespace], list[Row]], args: argparse.Namespace
) -> list[Row]:
    """One part in a migrated database of its own, dropped afterwards."""
    url = own_database(server_url, prefix)
    try:
        return part(url, args)
    finally:
        drop_database(server_url, url)


# ---------------------------------------------------------------- helpers


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def floor_to(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return moment - (moment - epoch) % step


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=zone).astimezone(UTC)


def service_env(url: str, extra: dict[str, str]) -> dict[str, str]:
    drop = {"DATABASE_URL", "PORT", "INSTANCE_ID", "HOST"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("INGESTION_")}
    return {**env, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "MIGRATE_ON_START": "false", **extra}


# ---------------------------------------------------------------- setup: history through the real CLI


def load_history(url: str, args: argparse.Namespace) -> None:
    """Busy last --hours first (it ends now), then the quiet --days before it (it ends at the oldest trade)."""
    say("\n== setup: history loaded with `mdp backfill` (the real CLI, a subprocess)")
    backfill_cli(url, ["--hours", str(args.hours), "--rate", str(args.rate), "--seed", str(args.seed)])
    backfill_cli(url, ["--days", str(args.days), "--rate", str(args.days_rate), "--seed", str(args.seed + 1)])
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        elapsed, _ = timed(lambda: (conn.execute("VACUUM ANALYZE trades"), conn.execute("VACUUM ANALYZE candles")))
        trades, first, last = conn.execute("SELECT count(*), min(ts), max(ts) FROM trades").fetchone()  # type: ignore[misc]
        candles = conn.execute("SELECT count(*) FROM candles").fetchone()[0]  # type: ignore[index]
    say(f"  stored: {trades:,} trades {z(first)} .. {z(last)}, {candles:,} candles (VACUUM ANALYZE {elapsed:.1f} s)")


def backfill_cli(url: str, span: list[str]) -> None:
    command = [*MDP, "backfill", *span]
    say("  $ mdp " + " ".join(command[len(MDP) :]))
    result = subprocess.run(command, env=service_env(url, {}), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"mdp backfill failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    for line in result.stdout.strip().splitlines():
        say("    " + line)


# ---------------------------------------------------------------- the real service


class Service:
    """`mdp run` (API + ingestion) as a subprocess on a free port; restartable; always cleaned up."""

    def __init__(self, url: str, rate: float, log_dir: Path) -> None:
        self._url = url
        self._rate = rate
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self.base = ""

    def start(self) -> None:
        port = free_port()
        self._starts += 1
        env = service_env(
            self._url,
            {
                "PORT": str(port),
                "INGESTION_ENABLED": "true",
                "INGESTION_INTERVAL_SECONDS": "1",
                "INGESTION_TRADES_PER_TICK": str(max(1, round(self._rate))),
            },
        )
        self.log = self._log_dir / f"service-{self._starts}.log"
        with self.log.open("wb") as log:
            self._process = subprocess.Popen([*MDP, "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise SystemExit(f"`mdp run` exited with {self._process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"`mdp run` not ready within {timeout:.0f} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


# ---------------------------------------------------------------- parts 1 and 2: /candles against SQL

AGGREGATES = """
           (array_agg(price ORDER BY ts, id))[1] AS open, max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY ts DESC, id DESC))[1] AS close,
           sum(volume) AS volume, count(*) AS trade_count,
           div(sum(price * volume) * 2000000 + sum(volume), 2 * sum(volume)) * 0.000001 AS vwap
"""
CANDLE_COLUMNS = "open, high, low, close, volume, trade_count, vwap"
# Buckets aligned to the Unix epoch, as the service's AGGREGATE_CANDLES.
EPOCH_SQL = f"""
SELECT bucket AS bucket_start, bucket + %(step)s AS bucket_end, {CANDLE_COLUMNS}
FROM (
    SELECT date_bin(%(step)s, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, {AGGREGATES}
    FROM trades WHERE symbol = %(symbol)s AND ts >= %(start)s AND ts < %(end)s
    GROUP BY 1
) AS g ORDER BY 1
"""
# Local days: GROUP BY the local date; its bounds are the local midnights, as instants.
LOCAL_DAY_SQL = f"""
SELECT day::timestamp AT TIME ZONE %(tz)s AS bucket_start, (day + 1)::timestamp AT TIME ZONE %(tz)s AS bucket_end,
       {CANDLE_COLUMNS}
FROM (
    SELECT (ts AT TIME ZONE %(tz)s)::date AS day, {AGGREGATES}
    FROM trades WHERE symbol = %(symbol)s AND ts >= %(start)s AND ts < %(end)s
    GROUP BY 1
) AS g ORDER BY 1
"""
WATERMARK = """
SELECT w.watermark, h.batches_committed, h.last_batch_trades, h.last_batch_duration_ms
FROM (SELECT 'synthetic' AS source) AS s
LEFT JOIN ingestion_watermark w USING (source) LEFT JOIN ingestion_heartbeat h USING (source)
"""


@dataclass(frozen=True)
class Case:
    label: str
    params: dict[str, str]
    sql: str
    sql_params: dict[str, Any]


@dataclass
class Outcome:
    first: float
    api: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    candles: int = 0
    checked: int = 0


def cases(args: argparse.Namespace) -> list[Case]:
    """The read windows, fixed now: whole buckets, the last one still open (as a live chart asks).

    At least two buckets, so that a short smoke run still has a completed one to compare.
    """
    now = datetime.now(UTC)
    out = []
    for name, step in (("1m", timedelta(minutes=1)), ("1h", timedelta(hours=1))):
        end = floor_to(now, step) + step
        span = max(timedelta(hours=args.hours), 2 * step)
        start = end - span
        params = {"symbol": args.symbol, "interval": name, "start": z(start), "end": z(end)}
        sql = {"step": step, "symbol": args.symbol, "start": start, "end": end}
        out.append(Case(f"/candles {name} over {span.total_seconds() / 3600:g} h", params, EPOCH_SQL, sql))
    zone = ZoneInfo(args.tz)
    today = now.astimezone(zone).date()
    start, end = local_midnight(today - timedelta(days=args.days - 1), zone), local_midnight(today + timedelta(1), zone)
    params = {"symbol": args.symbol, "interval": "1d", "tz": args.tz, "start": z(start), "end": z(end)}
    sql = {"tz": args.tz, "symbol": args.symbol, "start": start, "end": end}
    out.append(Case(f"/candles 1d tz={args.tz} over {args.days} days", params, LOCAL_DAY_SQL, sql))
    return out


def reads(url: str, args: argparse.Namespace) -> list[Row]:
    load_history(url, args)
    with tempfile.TemporaryDirectory(prefix="mdp-bench-wt-") as log_dir:
        return served_reads(url, args, Service(url, args.rate, Path(log_dir)))


def served_reads(url: str, args: argparse.Namespace, service: Service) -> list[Row]:
    beats: dict[int, tuple[int, float]] = {}
    rows: list[Row] = []
    say(f"\n== parts 1-2: /candles of {args.symbol} through HTTP (`mdp run`) vs hand-written SQL")
    try:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            jit = conn.execute("SHOW jit").fetchone()[0]  # type: ignore[index]
            say(f"  PostgreSQL {conn.info.parameter_status('server_version')}, jit={jit}")
            for case in cases(args):
                outcome = measure_case(service, conn, case, args.rounds, beats)
                report_case(case, outcome)
                rows += case_rows(case, outcome)
    finally:
        service.stop()
    rows += live_batches(beats)
    return rows


def measure_case(
    service: Service, conn: psycopg.Connection, case: Case, rounds: int, beats: dict[int, tuple[int, float]]
) -> Outcome:
    service.restart()
    with httpx.Client(base_url=service.base, timeout=300, trust_env=False) as client:
        watermark = observe(conn, beats)
        first, response = timed(lambda: client.get("/candles", params=case.params))
        pending = [(response, watermark)]  # checked against the first round's SQL rows
        outcome = Outcome(first)
        for _ in range(rounds):
            watermark = observe(conn, beats)
            elapsed, response = timed(lambda: client.get("/candles", params=case.params))
            outcome.api.append(elapsed)
            elapsed, rows = timed(lambda: conn.execute(case.sql, case.sql_params).fetchall())
            outcome.sql.append(elapsed)
            for earlier, seen in [*pending, (response, watermark)]:
                outcome.candles, outcome.checked = check_same(case, earlier, rows, seen)
            pending = []
    return outcome


def observe(conn: psycopg.Connection, beats: dict[int, tuple[int, float]]) -> datetime:
    """The watermark now; the live service's last batch is noted on the way (by its batch number)."""
    watermark, number, trades, duration = conn.execute(WATERMARK).fetchone()  # type: ignore[misc]
    if number is not None:
        beats[number] = (trades, duration)
    assert isinstance(watermark, datetime), "no watermark: the backfills set it"
    return watermark


def check_same(
    case: Case, response: httpx.Response, rows: list[tuple[Any, ...]], watermark: datetime
) -> tuple[int, int]:
    """API candles == SQL candles on every bucket ended by the watermark; (candles answered, candles compared)."""
    if response.status_code != 200:
        raise SystemExit(f"{case.label}: HTTP {response.status_code}: {response.text[:500]}")
    candles = response.json()["candles"]
    ours = [api_candle(c) for c in candles if datetime.fromisoformat(c["bucket_end"]) <= watermark]
    theirs = [sql_candle(r) for r in rows if r[1] <= watermark]
    if ours != theirs:
        diff = next((pair for pair in zip(ours, theirs, strict=False) if pair[0] != pair[1]), None)
        raise SystemExit(f"{case.label}: API and SQL differ ({len(ours)} vs {len(theirs)} candles); first: {diff}")
    if not ours:
        raise SystemExit(f"{case.label}: no completed candle to compare (watermark {watermark})")
    return len(candles), len(ours)


def api_candle(c: dict[str, Any]) -> tuple[Any, ...]:
    prices = tuple(Decimal(c[k]) for k in ("open", "high", "low", "close"))
    return (datetime.fromisoformat(c["bucket_start"]), *prices, c["volume"], c["trade_count"], Decimal(c["vwap"]))


def sql_candle(r: tuple[Any, ...]) -> tuple[Any, ...]:
    start, _, open_, high, low, close, volume, count, vwap = r
    return (start, open_, high, low, close, int(volume), count, vwap)


def report_case(case: Case, o: Outcome) -> None:
    api, sql = statistics.median(o.api), statistics.median(o.sql)
    say(f"\n  {case.label} ({case.params['start']} .. {case.params['end']}): {o.candles} candles,")
    say(f"  {o.checked} completed ones equal to SQL field by field (every answer checked); {len(o.api)} rounds")
    say(f"  {'':30}{'first':>11}{'p50':>11}{'min':>11}{'max':>11}")
    say(f"  {'API (HTTP, mdp run)':30}{ms(o.first):>11}{ms(api):>11}{ms(min(o.api)):>11}{ms(max(o.api)):>11}")
    say(f"  {'hand-written SQL (psycopg)':30}{'':>11}{ms(sql):>11}{ms(min(o.sql)):>11}{ms(max(o.sql)):>11}")
    say(f"  ratio API/SQL p50: first call {o.first / sql:.4f}, p50 {api / sql:.4f}   (target <= 0.01)")


def case_rows(case: Case, o: Outcome) -> list[Row]:
    sql = statistics.median(o.sql)
    api = statistics.median(o.api)
    return [
        Row(
            f"{case.label}, first call after restart",
            ms(o.first),
            ms(sql),
            o.first / sql,
            "<= 0.01",
            o.first <= 0.01 * sql,
        ),
        Row(f"{case.label}, p50", ms(api), ms(sql), api / sql, "<= 0.01", api <= 0.01 * sql),
    ]


def live_batches(beats: dict[int, tuple[int, float]]) -> list[Row]:
    """What the live service's own heartbeat said of its batches while it served the reads (informative)."""
    if not beats:
        return []
    durations = [d for _, d in beats.values()]
    trades = statistics.median(t for t, _ in beats.values())
    median = statistics.median(durations)
    say(f"\n  live `mdp run` batches seen in the heartbeat: {len(beats)}, median {trades:g} trades,")
    say(f"  last_batch_duration_ms median {median:.1f}, max {max(durations):.1f} (generation + writes, before COMMIT)")
    return [Row("live service batch (heartbeat), median", f"{median:.1f} ms", "-", None)]


# ---------------------------------------------------------------- part 3: ingestion batches A/B

INSERT_TRADES = (
    "INSERT INTO trades (symbol, ts, price, volume) "
    "SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::numeric(18,2)[], %s::bigint[])"
)
READ_HEARTBEAT = "SELECT * FROM ingestion_heartbeat WHERE source = 'synthetic'"
PUT_HEARTBEAT = """
INSERT INTO ingestion_heartbeat AS h (source, beat_at, last_trade_at, batches_committed, trades_ingested,
    last_batch_trades, last_batch_duration_ms, failed_attempts, last_error, last_error_at)
VALUES ('synthetic', %s, %s, %s, %s, %s, %s, 0, NULL, NULL)
ON CONFLICT (source) DO UPDATE SET beat_at = excluded.beat_at, last_trade_at = excluded.last_trade_at,
    batches_committed = excluded.batches_committed, trades_ingested = excluded.trades_ingested,
    last_batch_trades = excluded.last_batch_trades, last_batch_duration_ms = excluded.last_batch_duration_ms,
    failed_attempts = excluded.failed_attempts, last_error = excluded.last_error, last_error_at = excluded.last_error_at
"""


def ingestion(url: str, args: argparse.Namespace) -> list[Row]:
    say("\n== part 3: ingestion batch commit, write-through candles (A) vs trigger disabled (B), scratch database")
    blocks = -(-args.ingest_batches // args.ingest_block)
    span = timedelta(seconds=2 * blocks * (args.ingest_block + 1) + 60)
    t0 = floor_to(datetime.now(UTC), timedelta(seconds=1)) - span
    preload(url, t0, args)
    source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=t0, trades_per_second=args.rate, seed=args.seed + 2)
    times: dict[str, list[float]] = {"A": [], "B": []}
    sizes: list[int] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SELECT ensure_trade_partitions(%s, %s)", (t0, t0 + span))
        try:
            clock = t0
            for block in range(2 * blocks):
                arm = "AB"[(block + block // 2) % 2]  # A B B A A B B A ...: neither arm always goes first
                set_trigger(conn, enabled=arm == "A")
                for i in range(args.ingest_block + 1):
                    clock += timedelta(seconds=1)
                    batch = source.next_batch(clock)
                    elapsed = commit_batch(conn, batch, clock)
                    if i:  # the first batch after a switch re-plans: a warm-up
                        times[arm].append(elapsed)
                        sizes.append(len(batch))
        finally:
            set_trigger(conn, enabled=True)
    rows = report_ingestion(times, sizes)
    say("  the same through the application's own IngestBatch (generation, SQLAlchemy unit of work, COMMIT):")
    app = app_batches(url, clock + timedelta(seconds=1), args.rate, args.ingest_batches, args.ingest_block, args.seed)
    return rows + report_ingestion(app, sizes, "ingestion batch, app's IngestBatch")


def preload(url: str, end: datetime, args: argparse.Namespace) -> None:
    start = end - timedelta(hours=args.ingest_preload_hours)
    source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=start, trades_per_second=args.rate, seed=args.seed + 3)
    rows = PostgresTradeCopier(url).copy(chunks(source, start, end), (start, end))
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE trades")
        conn.execute("VACUUM ANALYZE candles")
    say(f"  preloaded {rows:,} trades ({args.ingest_preload_hours:g} h) ending {z(end)}; batches follow on")


def set_trigger(conn: psycopg.Connection, *, enabled: bool) -> None:
    conn.execute(f"ALTER TABLE trades {'ENABLE' if enabled else 'DISABLE'} TRIGGER {TRIGGER}")


def commit_batch(conn: psycopg.Connection, batch: list[Trade], now: datetime) -> float:
    """One batch as IngestBatch writes it: trades, watermark, heartbeat, in one transaction; seconds to COMMIT."""
    arrays = ([t.symbol for t in batch], [t.ts for t in batch], [t.price for t in batch], [t.volume for t in batch])
    began = time.perf_counter()
    with conn.transaction():
        conn.execute(INSERT_TRADES, arrays)
        conn.execute(ADVANCE_WATERMARK, (now,))
        previous = conn.cursor(row_factory=dict_row).execute(READ_HEARTBEAT).fetchone()
        count = previous["batches_committed"] + 1 if previous else 1
        total = (previous["trades_ingested"] if previous else 0) + len(batch)
        last = max((t.ts for t in batch), default=None)
        conn.execute(PUT_HEARTBEAT, (now, last, count, total, len(batch), 1.0))
    return time.perf_counter() - began


def report_ingestion(
    times: dict[str, list[float]], sizes: list[int], label: str = "ingestion batch commit"
) -> list[Row]:
    a, b = times["A"], times["B"]
    size = f"median {statistics.median(sizes):g} trades each (min {min(sizes)}, max {max(sizes)})"
    say(f"  {len(a)} + {len(b)} counted batches, {size}")
    say(f"  {'':34}{'median':>11}{'p95':>11}{'min':>11}{'max':>11}")
    for arm, values in (("A write-through candles", a), ("B trigger disabled", b)):
        figures = (statistics.median(values), p95(values), min(values), max(values))
        say(f"  {arm:34}" + "".join(f"{ms(f):>11}" for f in figures))
    ratio, ratio95 = statistics.median(a) / statistics.median(b), p95(a) / p95(b)
    say(f"  ratio A/B: median {ratio:.2f}x (target <= 1.25), p95 {ratio95:.2f}x")
    return [
        Row(
            f"{label}, median",
            ms(statistics.median(a)),
            ms(statistics.median(b)),
            ratio,
            "<= 1.25",
            ratio <= 1.25,
        ),
        Row(f"{label}, p95", ms(p95(a)), ms(p95(b)), ratio95),
    ]


# ---------------------------------------------------------------- part 4: backfill COPY with candles vs raw COPY

END = datetime(2026, 11, 1, tzinfo=UTC)


def backfill(url: str, args: argparse.Namespace) -> list[Row]:
    say("\n== part 4: backfill with candles (PostgresTradeCopier) vs raw COPY of the same rows, scratch database")
    start = END - timedelta(hours=args.copy_hours)
    source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=start, trades_per_second=args.rate, seed=args.seed + 4)
    raw = list(chunks(source, start, END))
    rows = sum(len(c) for c in raw)
    text = [copy_text(c) for c in raw]
    copier, libpq = PostgresTradeCopier(url), libpq_url(url)

    def raw_copy() -> None:
        with psycopg.connect(libpq) as conn, conn.transaction():
            conn.execute("SELECT ensure_trade_partitions(%s, %s)", (start, END))
            with conn.cursor() as cur, cur.copy(COPY_TRADES) as copy:
                for block in text:
                    copy.write(block)

    loaders: dict[str, tuple[bool, Callable[[], object]]] = {
        "backfill, candles": (True, lambda: copier.copy(raw, (start, END))),
        "raw COPY, no trigger": (False, raw_copy),
        "copier, no trigger": (False, lambda: copier.copy(raw, (start, END))),
    }
    timings = run_loads(libpq, loaders, rows, args.copy_rounds)
    return report_backfill(rows, timings)


def run_loads(
    libpq: str, loaders: dict[str, tuple[bool, Callable[[], object]]], rows: int, rounds: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in loaders}
    with psycopg.connect(libpq, autocommit=True) as conn:
        try:
            for round_number in range(rounds):
                order = list(loaders.items())
                for name, (trigger, load) in order if round_number % 2 == 0 else reversed(order):
                    conn.execute("TRUNCATE trades")  # its trigger empties candles too
                    set_trigger(conn, enabled=trigger)
                    conn.execute("CHECKPOINT")
                    timings[name].append(timed(load)[0])
                    check_loaded(conn, name, rows, trigger)
        finally:
            set_trigger(conn, enabled=True)
    return timings


def check_loaded(conn: psycopg.Connection, name: str, rows: int, trigger: bool) -> None:
    stored = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
    folded = conn.execute("SELECT coalesce(sum(trade_count), 0) FROM candles WHERE \"interval\" = '1m'").fetchone()[0]  # type: ignore[index]
    if stored != rows or folded != (rows if trigger else 0):
        raise SystemExit(f"{name}: {stored} trades and {folded} in 1m candles after loading {rows}")


def report_backfill(rows: int, timings: dict[str, list[float]]) -> list[Row]:
    medians = {name: statistics.median(t) for name, t in timings.items()}
    say(f"  rows per load: {rows:,}   rounds: {len(next(iter(timings.values())))} (median)")
    say(f"  {'loader':<24}{'median s':>10}{'rows/s':>12}")
    for name, seconds in medians.items():
        say(f"  {name:<24}{seconds:>10.2f}{rows / seconds:>12,.0f}")
    ratio = medians["raw COPY, no trigger"] / medians["backfill, candles"]
    trigger_only = medians["copier, no trigger"] / medians["backfill, candles"]
    say(f"  backfill with candles / raw COPY: {ratio:.2f}x throughput (target >= 0.60)")
    say(f"  backfill with candles / the same copier without the trigger: {trigger_only:.2f}x")
    per_s = {name: f"{rows / s:,.0f} rows/s" for name, s in medians.items()}
    return [
        Row(
            "backfill throughput",
            per_s["backfill, candles"],
            per_s["raw COPY, no trigger"],
            ratio,
            ">= 0.60",
            ratio >= 0.6,
        ),
        Row(
            "backfill vs copier without trigger", per_s["backfill, candles"], per_s["copier, no trigger"], trigger_only
        ),
    ]


# ---------------------------------------------------------------- summary


def summary(rows: list[Row]) -> None:
    say("\n== summary")
    say("| measurement | API (or write-through) | baseline | ratio | target |")
    say("|---|---:|---:|---:|---|")
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.4f}" if r.ratio < 0.1 else f"{r.ratio:.2f}"
        verdict = "" if r.passed is None else " met" if r.passed else " MISSED"
        say(f"| {r.measurement} | {r.ours} | {r.baseline} | {ratio} | {r.target}{verdict} |")


if __name__ == "__main__":
    main()
