"""How soon ingestion commits again after the database comes back, round after round of outages.

Usage: .venv/bin/python bench/recovery.py [--rounds 8] [--interval 1]

A throw-away embedded PostgreSQL of its own (it is stopped and started, so never DATABASE_URL's),
the real `mdp run` on it; each round stops the server for 2-8 s, starts it, and times from the first
answer of the database to the next committed batch (the heartbeat's `batches_committed` moving).
Target: median at most 2 intervals, max at most 3.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from adapters.postgres import migrations
from adapters.postgres.embedded import EmbeddedPostgres, free_port
from adapters.postgres.url import libpq_url

_MDP = Path(sys.executable).with_name("mdp")
MDP = [str(_MDP)] if _MDP.exists() else [sys.executable, "-m", "entrypoints"]


def batches(url: str) -> int | None:
    """Batches committed so far, or None while the database does not answer."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=2) as conn:
            row = conn.execute("SELECT coalesce(max(batches_committed), 0) FROM ingestion_heartbeat").fetchone()
            return int(row[0]) if row else 0
    except psycopg.OperationalError:
        return None


def round_trip(server: EmbeddedPostgres, url: str, down: float) -> float:
    server.stop()
    time.sleep(down)
    server.start()
    before = batches(url)
    while before is None:
        time.sleep(0.05)
        before = batches(url)
    answered = time.monotonic()
    while batches(url) == before:
        time.sleep(0.05)
    return time.monotonic() - answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", port=free_port())
        server.start()
        migrations.upgrade(server.url)
        env = {**os.environ, "DATABASE_URL": server.url, "PORT": str(free_port()), "LOG_LEVEL": "ERROR"}
        env["INGESTION_INTERVAL_SECONDS"] = str(args.interval)
        service = subprocess.Popen([*MDP, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not batches(server.url):
                time.sleep(0.1)
            times = []
            for number in range(args.rounds):
                times.append(round_trip(server, server.url, rnd.uniform(2, 8)))
                print(f"round {number}: next batch {times[-1]:.2f} s after the database answered", flush=True)
                time.sleep(rnd.uniform(1, 4))
        finally:
            service.terminate()
            service.wait(timeout=30)
            server.stop()
    print(
        f"min {min(times):.2f} / median {statistics.median(times):.2f} / max {max(times):.2f} s "
        f"at a {args.interval:g} s interval: median {statistics.median(times) / args.interval:.2f} intervals "
        f"(target <= 2), max {max(times) / args.interval:.2f} (target <= 3)"
    )


if __name__ == "__main__":
    main()
