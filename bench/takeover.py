"""Ingestion takeover time: SIGKILL (or stop, or freeze) the leader of real replicas, measure until another commits.

Usage: .venv/bin/python bench/takeover.py [--kills 10] [--replicas 3] [--interval 0.5] [--signal KILL|TERM|STOP]

Starts a throw-away embedded PostgreSQL (or uses DATABASE_URL, in a database of
its own), migrates it and starts `--replicas` processes of `python -m entrypoints`
on free loopback ports. Each round reads which replica's dedicated session holds
the ingestion advisory lock, sends that process the signal (SIGKILL by default;
SIGTERM for a graceful stop, SIGSTOP for a frozen leader whose lease must run
out), and measures on the database's clock:
  lock    - until another replica's session holds the lock
  commit  - until that replica has committed its first batch (heartbeat)
A replacement replica is started after each kill, so every round has the same
number of followers. Prints every round and the min / median / max.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import psycopg

from adapters.postgres.embedded import free_port
from adapters.postgres.leader import INGESTION_LEADER_KEY
from adapters.postgres.url import libpq_url
from harness import drop_database, own_database, postgres_server

HOLDER = (
    "SELECT clock_timestamp(), (SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.objid::bigint = %s AND l.granted"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),"
    " (SELECT beat_at FROM ingestion_heartbeat)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.5, help="INGESTION_INTERVAL_SECONDS of the replicas")
    parser.add_argument(
        "--signal",
        choices=["KILL", "TERM", "STOP"],
        default="KILL",
        help="how the leader goes: KILL (dies), TERM (graceful stop), STOP (frozen: the lease must run out)",
    )
    args = parser.parse_args()
    with postgres_server() as server_url:
        own = own_database(server_url, "mdp_bench_takeover")
        try:
            run(own, args)
        finally:
            drop_database(server_url, own)


class Replica:
    def __init__(self, url: str, name: str, interval: float, log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "INSTANCE_ID")}
        env.update(
            DATABASE_URL=url,
            INSTANCE_ID=name,
            PORT=str(self.port),
            INGESTION_INTERVAL_SECONDS=str(interval),
            MIGRATE_ON_START="false",
            DB_POOL_SIZE="2",
            LOG_LEVEL="WARNING",
        )
        with (log_dir / f"{name}.log").open("w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "entrypoints"], env=env, stdout=log, stderr=log)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"replica {self.name} did not become ready")


def observe(conn: psycopg.Connection) -> tuple[datetime, str | None, datetime | None]:
    now, holder, beat = conn.execute(HOLDER, (INGESTION_LEADER_KEY,)).fetchone()  # type: ignore[misc]
    return now, (holder.removeprefix("mdp-leader ") if holder else None), beat


def one_round(
    conn: psycopg.Connection, replicas: dict[str, Replica], sig: signal.Signals, timeout: float = 60
) -> tuple[str, float, float]:
    """Signal the leader; (its name, seconds until another holds the lock, until it has committed)."""
    _, leader, _ = observe(conn)
    while leader is None:
        time.sleep(0.05)
        _, leader, _ = observe(conn)
    signalled_at, _, _ = observe(conn)
    process = replicas.pop(leader).process
    process.send_signal(sig)
    try:
        lock_s, commit_s = measure(conn, leader, signalled_at, timeout)
    finally:
        if sig == signal.SIGSTOP:  # a frozen process never exits by itself
            process.kill()
        process.wait(timeout=60)
    return leader, lock_s, commit_s


def measure(conn: psycopg.Connection, leader: str, since: datetime, timeout: float) -> tuple[float, float]:
    """Until another session holds the lock, and until a heartbeat newer than any the old leader wrote."""
    lock_s, old_beat = None, since
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now, holder, beat = observe(conn)
        if holder in (None, leader):  # a stopping leader may still commit until it unlocks
            old_beat = max(old_beat, beat or since)
        elif lock_s is None:
            lock_s = (now - since).total_seconds()
        if lock_s is not None and beat is not None and beat > old_beat:
            return lock_s, (beat - since).total_seconds()
        time.sleep(0.01)
    raise SystemExit(f"no takeover within {timeout}s after signalling {leader}")


def run(url: str, args: argparse.Namespace) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="mdp-takeover-"))
    replicas = {f"r{i}": Replica(url, f"r{i}", args.interval, log_dir) for i in range(1, args.replicas + 1)}
    serial = args.replicas
    rows: list[tuple[str, float, float]] = []
    try:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for replica in replicas.values():
                replica.wait_ready()
            for _ in range(args.kills):
                time.sleep(3 * args.interval)  # let the leader settle into its cadence
                rows.append(one_round(conn, replicas, signal.Signals[f"SIG{args.signal}"]))
                serial += 1
                fresh = Replica(url, f"r{serial}", args.interval, log_dir)
                replicas[fresh.name] = fresh
                fresh.wait_ready()
                print(
                    f"SIG{args.signal} {rows[-1][0]:>4}: lock free -> held {rows[-1][1]:.3f}s, first batch {rows[-1][2]:.3f}s"
                )
    finally:
        for replica in replicas.values():
            replica.process.send_signal(signal.SIGTERM)
        for replica in replicas.values():
            replica.process.wait(timeout=60)
    report(rows, args)


def report(rows: list[tuple[str, float, float]], args: argparse.Namespace) -> None:
    print(
        f"\n{len(rows)} x SIG{args.signal} to the leader, {args.replicas} replicas,"
        f" INGESTION_INTERVAL_SECONDS={args.interval}"
        f" (the bound is about 3 intervals = {3 * args.interval:.2f}s)"
    )
    print(f"{'':24}{'min':>8}{'median':>8}{'max':>8}")
    for label, index in (("new leader holds lock", 1), ("its first batch commits", 2)):
        values = [row[index] for row in rows]
        print(f"{label:24}{min(values):8.3f}{statistics.median(values):8.3f}{max(values):8.3f}")


if __name__ == "__main__":
    main()
