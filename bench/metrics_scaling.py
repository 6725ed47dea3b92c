"""`/metrics` p50 with 10 thousand trades stored against 10 million: it must not grow with the table.

Usage: .venv/bin/python bench/metrics_scaling.py [--small 10000] [--large 10000000] [--rounds 10] [--requests 50]

Starts a throw-away embedded PostgreSQL (or uses DATABASE_URL, in databases of
its own), creates two migrated databases, loads about `--small` trades into one
and about `--large` into the other with `mdp backfill` (COPY), serves the real
app twice with uvicorn on free loopback ports (one per database) and times
sequential GET /metrics over keep-alive connections, alternating between the two
servers in `--rounds` rounds of `--requests`, so that load from elsewhere on the
machine falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import httpx
import uvicorn

from adapters.postgres.embedded import free_port
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings
from harness import own_database, postgres_server

RATE = 100.0  # trades per second per symbol in the big backfill
SYMBOLS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with postgres_server() as server_url:
        run(own_database(server_url), own_database(server_url), args)


def run(small_url: str, large_url: str, args: argparse.Namespace) -> None:
    backfill(small_url, args.small, rate=1.0)
    backfill(large_url, args.large, rate=RATE)
    with Served(small_url) as small_base, Served(large_url) as large_base:
        timings: dict[str, list[float]] = {small_base: [], large_base: []}
        rows = {base: warm(base) for base in timings}
        for _ in range(args.rounds):
            for base, samples in timings.items():
                samples.extend(measure(base, args.requests))
    for base, samples in timings.items():
        print(
            f"/metrics p50 with {rows[base]:>12,} trades: {statistics.median(samples):7.2f} ms "
            f"(p95 {percentile(samples, 95):.2f} ms, {len(samples)} requests)"
        )
    ratio = statistics.median(timings[large_base]) / statistics.median(timings[small_base])
    print(f"ratio large/small p50: {ratio:.2f} (target <= 1.5)")


def backfill(url: str, trades: int, rate: float) -> None:
    hours = trades / (rate * SYMBOLS) / 3600
    command = [sys.executable, "-m", "entrypoints", "backfill", "--hours", f"{hours:.6f}", "--rate", str(rate)]
    began = time.perf_counter()
    subprocess.run([*command, "--seed", "7"], env={**os.environ, "DATABASE_URL": url}, check=True)
    print(f"  (backfill of ~{trades:,} trades took {time.perf_counter() - began:.1f}s)", file=sys.stderr)


def warm(base: str) -> int:
    """Warm the pool, the caches and the code paths; the stored trade count, from the exact counters."""
    with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
        for _ in range(20):
            response = client.get("/metrics")
        count: int = response.json()["counts"]["trades"]
        return count


def measure(base: str, requests: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
        client.get("/metrics")  # open the connection outside the timing
        for _ in range(requests):
            began = time.perf_counter()
            client.get("/metrics").raise_for_status()
            timings.append((time.perf_counter() - began) * 1000)
    return timings


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


class Served:
    """The real app, API only, under uvicorn in a thread on a free loopback port."""

    def __init__(self, url: str) -> None:
        port = free_port()
        settings = load_settings({}, database_url=url, ingestion_enabled=False, port=port, log_level="WARNING")
        app = create_app(build_container(settings, url))
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base = f"http://127.0.0.1:{port}"

    def __enter__(self) -> str:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.05)
        return self.base

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


if __name__ == "__main__":
    main()
