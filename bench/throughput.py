"""Requests per second of each endpoint of the real service, side by side with a bare Litestar app, under wrk.

Usage: .venv/bin/python bench/throughput.py [--seconds 5] [--rounds 3] [--connections 32] [--threads 2]
           [--workers N] [--url URL] [--history-hours 3] [--bare-access-log on|off]
Quick: .venv/bin/python bench/throughput.py --seconds 2 --rounds 1

Needs wrk (Debian: apt-get install wrk). Where: a scratch database on DATABASE_URL's server when set, else a
throw-away embedded PostgreSQL (bench/harness.py), loaded with `mdp backfill --hours --history-hours` (so the
last full hour is covered) and analyzed (as autovacuum would do a minute or so later), then served the way
users start it: `python -m entrypoints run` (API + ingestion at its default 1 s interval; one worker unless
--workers passes WEB_CONCURRENCY, which a service without that setting ignores: the process count is
printed). --url measures an instance that is already running instead (its data and settings; every
endpoint must answer 200; no CPU figures for it).

The baseline, bench/bare_app.py: one async Litestar handler returning a ~300-byte JSON dict, served by
`uvicorn.run(app)` with uvicorn's defaults: one worker, loop and http "auto" (uvloop and httptools when
installed; what it got is printed) and its access log, which the service turns off (to /dev/null here;
`--bare-access-log off` measures the bare app without it). Both run throughout. For each endpoint and
round, wrk loads the bare app and the service back to back, the order alternating so drift cancels.
Ratio: the median over rounds of service req/s / bare req/s of the same round. Targets (issue 10, item 7):
/health, /status/ingestion, /metrics, /symbols >= 0.8x; /trades and warm /candles >= 0.3x. Those two repeat
one call, and identical reads waiting for a connection share a round trip (adapters/postgres/coalesced_reads.py):
two more rows, with no target, ask a different window of a random symbol each time, so little is shared.
CPU is read from /proc (bench/process_cpu.py): the service's process tree, its PostgreSQL server's (all of
it: on a shared DATABASE_URL server, other databases' work too) and the bare app's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

import bare_app
from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url
from harness import drop_database, own_database, postgres_server
from process_cpu import postmaster, processes, tree, tree_cpu

WRK_SUMMARY = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d}\\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""
"""wrk's own summary as one JSON line (`non_2xx` is wrk's count of statuses above 399)."""

DISTINCT_WINDOWS = """
local symbols = { "AAPL", "AMZN", "GOOGL", "MSFT", "TSLA" }
local kind, hour_end = "%(kind)s", %(hour_end)d
request = function()
  local symbol = symbols[math.random(#symbols)]
  if kind == "trades" then
    local first = hour_end - 3600 - math.random(0, 3599)
    return wrk.format("GET", string.format("/trades?symbol=%%s&limit=100&start=%%d&end=%%d", symbol,
      first * 1000, (first + 3600) * 1000))
  end
  local first = hour_end - 3600 - 60 * math.random(0, 59)
  return wrk.format("GET", string.format("/candles?symbol=%%s&interval=1m&start=%%d&end=%%d", symbol,
    first * 1000, (first + 3600) * 1000))
end
"""
"""Every request a different question: one of 5 symbols, a 1 h window starting up to an hour before the last
full hour (trades: any second, 18,000 windows; candles: any minute, 300). Little for identical reads to share."""


def say(*parts: object) -> None:
    print(*parts, flush=True)


@dataclass
class Endpoint:
    name: str
    path: str
    target: float | None
    """None: measured for the record, no target (the distinct-window rows)."""
    script: str | None = None
    """wrk Lua that makes each request (the distinct-window rows); else wrk repeats `path`."""
    service: list[dict[str, float]] = field(default_factory=list)
    bare: list[dict[str, float]] = field(default_factory=list)

    def ratio(self) -> float:
        return statistics.median(s["rps"] / b["rps"] for s, b in zip(self.service, self.bare, strict=True))


def endpoints(hour_end: datetime) -> list[Endpoint]:
    """The measured endpoints; /trades and /candles over the last full hour (warm: wrk repeats the same call)."""
    window = f"start={z(hour_end - timedelta(hours=1))}&end={z(hour_end)}"
    return [
        Endpoint("/health", "/health", 0.8),
        Endpoint("/status/ingestion", "/status/ingestion", 0.8),
        Endpoint("/metrics", "/metrics", 0.8),
        Endpoint("/symbols", "/symbols", 0.8),
        Endpoint("/trades?limit=100", f"/trades?symbol=AAPL&limit=100&{window}", 0.3),
        Endpoint("/candles 1m x 1 h", f"/candles?symbol=AAPL&interval=1m&{window}", 0.3),
        Endpoint("/trades, distinct windows", "/", None, distinct("trades", hour_end)),
        Endpoint("/candles, distinct windows", "/", None, distinct("candles", hour_end)),
    ]


def distinct(kind: str, hour_end: datetime) -> str:
    return DISTINCT_WINDOWS % {"kind": kind, "hour_end": int(hour_end.timestamp())}


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Side:
    """One server under load: where it answers and, when known, the root processes whose CPU is counted."""

    base: str
    server: int | None = None
    database: int | None = None
    """The postmaster of its PostgreSQL: the whole server's CPU, connections closed meanwhile included."""


class Wrk:
    def __init__(self, args: argparse.Namespace, script: Path, headers: list[str]) -> None:
        self.args, self.script, self.headers = args, script, headers

    def load(self, side: Side, path: str, seconds: int, requests: str | None = None) -> dict[str, float]:
        """One wrk run: req/s, errors, latency, and the CPU the server (and its database) used meanwhile."""
        script = self.script
        if requests is not None:
            script = self.script.with_name(f"requests-{abs(hash(requests))}.lua")
            script.write_text(requests + WRK_SUMMARY)
        command = ["wrk", f"-c{self.args.connections}", f"-t{self.args.threads}", f"-d{seconds}s"]
        command += [f"-s{script}", *(f"-H{h}" for h in self.headers), side.base + path]
        roots = {"cpu": side.server, "db_cpu": side.database}
        before = {name: tree_cpu(root) for name, root in roots.items() if root is not None}
        began = time.monotonic()
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        elapsed = time.monotonic() - began
        figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        for name, root in roots.items():
            figures[name] = (tree_cpu(root) - before[name]) / elapsed if root is not None else math.nan
        return figures


def wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 within {timeout:g}s")


def start_bare(tmp: Path, access_log: str) -> tuple[subprocess.Popen[bytes], str, str]:
    port, report = free_port(), tmp / "bare.txt"
    command = [sys.executable, bare_app.__file__, str(port), str(report), "--access-log", access_log]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + bare_app.PATH)
    return process, base, report.read_text()


def start_service(url: str, workers: int | None, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    with log.open("wb") as out:
        command = [sys.executable, "-m", "entrypoints", "run"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/health/ready")
    return process, base


def backfill(url: str, hours: float) -> None:
    command = [sys.executable, "-m", "entrypoints", "backfill", "--hours", f"{hours:g}", "--seed", "7"]
    result = subprocess.run(command, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"mdp backfill failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    say(result.stdout.strip())
    # Fresh statistics, as autovacuum would give within a minute or so: until then the planner expects a dozen
    # rows in the new partition and answers /trades?limit=100 by sorting the whole hour (about 300x slower).
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE trades")
        conn.execute("ANALYZE candles")


def check_answers(base: str, points: list[Endpoint], headers: dict[str, str]) -> dict[str, int]:
    """Every endpoint answers 200 before it is measured; returns the size of each body."""
    sizes = {}
    for point in points:
        if point.script is not None:
            continue  # its requests are made by wrk; the same routes are checked on their fixed-window rows
        response = httpx.get(base + point.path, headers=headers, timeout=10)
        if response.status_code != 200:
            raise SystemExit(f"{point.path}: {response.status_code} {response.text[:300]}")
        sizes[point.name] = len(response.content)
    return sizes


def measure(wrk: Wrk, points: list[Endpoint], bare: Side, service: Side) -> None:
    seconds, rounds = wrk.args.seconds, wrk.args.rounds
    for point in points:  # warm-up, not counted: connections, caches, prepared statements
        wrk.load(service, point.path, 1, point.script)
    wrk.load(bare, bare_app.PATH, 1)
    for number in range(rounds):
        for index, point in enumerate(points):
            sides = [("bare", bare, bare_app.PATH, None), ("service", service, point.path, point.script)]
            for name, side, path, requests in sides if (number + index) % 2 == 0 else reversed(sides):
                getattr(point, name).append(wrk.load(side, path, seconds, requests))
            s, b = point.service[-1], point.bare[-1]
            say(
                f"round {number + 1}/{rounds} {point.name:<18} service {s['rps']:7,.0f} req/s "
                f"(CPU {share(s['cpu'])}, PostgreSQL {share(s['db_cpu'])}), bare {b['rps']:7,.0f} req/s "
                f"(CPU {share(b['cpu'])}), ratio {s['rps'] / b['rps']:.3f}"
            )


def share(cpu: float) -> str:
    """CPU seconds per second as a percentage of one core; n/a for processes this script did not start."""
    return "n/a" if math.isnan(cpu) else f"{cpu:.0%}"


def per_request(runs: list[dict[str, float]]) -> str:
    """Median CPU time per request: what one answer costs the server, less sensitive to other load than req/s."""
    micros = statistics.median(r["cpu"] / r["rps"] * 1e6 for r in runs)
    return "n/a" if math.isnan(micros) else f"{micros:,.0f}"


def table(points: list[Endpoint], sizes: dict[str, int]) -> None:
    say(
        "\n| endpoint | bytes | service req/s | bare req/s | ratio | target | met | service p50 / p99 ms "
        "| CPU: service / PostgreSQL / bare | CPU µs per request: service / bare "
        "| non-2xx service / bare | socket errors service / bare |"
    )
    say("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for p in points:
        s_rps, b_rps = (statistics.median(r["rps"] for r in side) for side in (p.service, p.bare))
        lat = " / ".join(f"{statistics.median(r[q] for r in p.service) / 1000:.1f}" for q in ("p50_us", "p99_us"))
        columns = (("cpu", p.service), ("db_cpu", p.service), ("cpu", p.bare))
        cpu = " / ".join(share(statistics.median(r[k] for r in side)) for k, side in columns)
        micros = " / ".join(per_request(side) for side in (p.service, p.bare))
        errors = [sum(int(r[k]) for r in side) for k in ("non_2xx", "socket_errors") for side in (p.service, p.bare)]
        ratio = p.ratio()
        target, met = ("none", "n/a") if p.target is None else (f">= {p.target}", "yes" if ratio >= p.target else "NO")
        say(
            f"| {p.name} | {sizes.get(p.name, 0):,} | {s_rps:,.0f} | {b_rps:,.0f} | {ratio:.3f} | {target} "
            f"| {met} | {lat} | {cpu} | {micros} | {errors[0]} / {errors[1]} "
            f"| {errors[2]} / {errors[3]} |"
        )


def service_side(args: argparse.Namespace, tmp: Path) -> tuple[subprocess.Popen[bytes] | None, Side]:
    if args.url:
        return None, Side(args.url.rstrip("/"))
    service, base = start_service(args.database_url, args.workers, tmp / "service.log")
    time.sleep(3)  # a few ingestion batches before measuring; uvicorn's workers (if any) have started
    count = len(tree(service.pid, processes()[0]))
    say(f"service: python -m entrypoints run, pid {service.pid}, {count} process(es); WEB_CONCURRENCY={args.workers}")
    if args.workers and args.workers > 1 and count == 1:
        say("  (one process: this version of the service ignores WEB_CONCURRENCY)")
    return service, Side(base, service.pid, postmaster(args.database_url))


def run(args: argparse.Namespace, tmp: Path) -> None:
    headers = [f"Authorization: Bearer {args.token}"] if args.token else []
    script = tmp / "summary.lua"
    script.write_text(WRK_SUMMARY)
    bare, bare_base, used = start_bare(tmp, args.bare_access_log)
    say(f"bare app: uvicorn.run(app), one worker, access log {args.bare_access_log}; it got {used}")
    service = None
    try:
        service, side = service_side(args, tmp)
        points = endpoints(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
        sizes = check_answers(side.base, points, dict(h.split(": ", 1) for h in headers))
        say(f"wrk: {args.connections} connections, {args.threads} threads, {args.seconds} s x {args.rounds} rounds")
        say(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        measure(Wrk(args, script, headers), points, Side(bare_base, bare.pid), side)
        say(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        table(points, sizes)
    finally:
        for process in (service, bare):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per endpoint, side and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=None, help="WEB_CONCURRENCY for the service started here")
    parser.add_argument("--url", default=None, help="measure this running instance instead of starting one")
    parser.add_argument(
        "--history-hours",
        type=float,
        default=3.0,
        help="history loaded by `mdp backfill` (the distinct windows need 3)",
    )
    parser.add_argument("--token", default=os.environ.get("OPERATOR_TOKEN"), help="bearer token sent (for /metrics)")
    parser.add_argument(
        "--bare-access-log",
        choices=["on", "off"],
        default="on",
        help="uvicorn's access log in the bare app: on is uvicorn's default (the service turns it off)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            run(args, Path(tmp))
            return
        with postgres_server() as server:
            args.database_url = own_database(server, "mdp_bench_throughput")
            try:
                backfill(args.database_url, args.history_hours)
                run(args, Path(tmp))
            finally:
                drop_database(server, args.database_url)


if __name__ == "__main__":
    main()
