"""Many open /candles/stream connections on one API process while ingestion runs: latency, CPU, memory, and
what they cost /candles.

Usage: .venv/bin/python bench/stream_fanout.py [--streams 1000] [--seconds 30] [--load-seconds 10]
Quick: .venv/bin/python bench/stream_fanout.py --streams 50 --seconds 8 --load-seconds 3

Where: a scratch database on DATABASE_URL's server when set, else a throw-away embedded PostgreSQL.
The real `mdp run` (API + ingestion at a 1 s interval) serves; this script is its clients, on raw
asyncio sockets (a few kB each), so the client side stays light on a 2-core machine.

Measured, side by side in one run:
  1. `/candles` req/s (1m over the last hour, AAPL, 8 concurrent keep-alive clients) with no stream open;
  2. open --streams streams (symbols all, interval 1m), each reading every event; RSS and CPU time of the
     service before and after, so RSS per stream; for --seconds, every event's arrival time, against
     the commit of its change (`candle_changes.committed_at` is the batch transaction's start, so the
     figure includes the batch's own few milliseconds);
  3. `/candles` req/s again with the streams open. Target: at least 0.8x of (1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url
from harness import drop_database, own_database, postgres_server

_MDP = Path(sys.executable).with_name("mdp")
MDP = [str(_MDP)] if _MDP.exists() else [sys.executable, "-m", "entrypoints"]


def say(*parts: object) -> None:
    print(*parts, flush=True)


def proc_figures(pid: int) -> tuple[int, float]:
    """(RSS bytes, CPU seconds) of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


class Opened:
    """Counts streams that got their 200; `all` is set once every one has."""

    def __init__(self, expected: int) -> None:
        self.count, self.expected, self.all = 0, expected, asyncio.Event()

    def one(self) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.all.set()


async def stream_client(port: int, arrivals: dict[int, list[float]], stop: asyncio.Event, opened: Opened) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /candles/stream?interval=1m HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise SystemExit(f"stream refused: {status!r}")
    opened.one()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                arrivals.setdefault(int(line[4:]), []).append(time.time())
    finally:
        writer.close()


async def candles_rate(base: str, seconds: float, clients: int = 8) -> float:
    end = datetime.now(UTC)
    params = {
        "symbol": "AAPL",
        "interval": "1m",
        "start": (end - timedelta(hours=1)).isoformat(),
        "end": end.isoformat(),
    }
    done = 0
    deadline = time.monotonic() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            response = await client.get("/candles", params=params)
            response.raise_for_status()
            done += 1

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        began = time.monotonic()
        await asyncio.gather(*(one(client) for _ in range(clients)))
        return done / (time.monotonic() - began)


def start_service(url: str, streams: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "INGESTION_INTERVAL_SECONDS": "1",
        "STREAM_MAX_CLIENTS": str(streams + 100),
        "LOG_LEVEL": "WARNING",
        "MIGRATE_ON_START": "false",
    }
    return subprocess.Popen([*MDP, "run"], env=env, stdout=subprocess.DEVNULL), port


async def measure(url: str, args: argparse.Namespace, service: subprocess.Popen[bytes], port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    await wait_ready(base)
    await asyncio.sleep(3)  # a few batches, so /candles has something to read
    without = await candles_rate(base, args.load_seconds)
    say(f"/candles req/s, no stream open: {without:,.1f}")
    rss0, cpu0 = proc_figures(service.pid)
    arrivals: dict[int, list[float]] = {}
    stop, opened = asyncio.Event(), Opened(args.streams)
    tasks = [asyncio.create_task(stream_client(port, arrivals, stop, opened)) for _ in range(args.streams)]
    await opened.all.wait()
    say(f"{args.streams} streams open")
    window_began = time.time()
    await asyncio.sleep(args.seconds)
    rss1, cpu1 = proc_figures(service.pid)
    with_streams = await candles_rate(base, args.load_seconds)
    stop.set()
    for task in tasks:
        task.cancel()
    report(url, arrivals, window_began, args, (rss0, cpu0, rss1, cpu1), without, with_streams)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/health/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the service did not become ready")


def report(
    url: str,
    arrivals: dict[int, list[float]],
    began: float,
    args: argparse.Namespace,
    proc: tuple[int, float, int, float],
    without: float,
    with_streams: float,
) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        committed = dict(conn.execute("SELECT seq, extract(epoch FROM committed_at)::float8 FROM candle_changes"))
    lags = [t - committed[seq] for seq, times in arrivals.items() if seq in committed for t in times if t >= began]
    complete = sum(1 for times in arrivals.values() if len(times) == args.streams)
    rss0, cpu0, rss1, cpu1 = proc
    q = statistics.quantiles(lags, n=100) if len(lags) > 1 else [lags[0]] * 99
    say(f"\nevents delivered in the window: {len(lags):,} ({complete} changes reached all {args.streams} streams)")
    say(
        f"commit-to-event latency: p50 {q[49] * 1000:,.1f} ms, p99 {q[98] * 1000:,.1f} ms, max {max(lags) * 1000:,.1f} ms"
    )
    say(
        f"service RSS: {rss0 / 2**20:,.1f} MiB before the streams, {rss1 / 2**20:,.1f} MiB with them: "
        f"{(rss1 - rss0) / args.streams / 1024:,.1f} KiB per stream"
    )
    say(f"service CPU while streaming: {(cpu1 - cpu0) / args.seconds * 100:,.0f}% of one core over {args.seconds} s")
    say(
        f"/candles req/s: {without:,.1f} without streams, {with_streams:,.1f} with them: "
        f"{with_streams / without:.2f}x (target >= 0.8)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with postgres_server() as server:
        url = own_database(server, "mdp_bench_streams")
        service, port = start_service(url, args.streams)
        try:
            asyncio.run(measure(url, args, service, port))
        finally:
            service.terminate()
            service.wait(timeout=30)
            drop_database(server, url)


if __name__ == "__main__":
    main()
