"""`mdp run` as a new user starts it: embedded PostgreSQL, API, ingestion; Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from adapters.postgres.embedded import EmbeddedPostgres, free_port
from tests.integration.support import wait_for

pytestmark = pytest.mark.processes


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), EMBEDDED_POSTGRES_PORT="0", INGESTION_INTERVAL_SECONDS="0.2")
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stored_trades(data_dir: Path) -> int:
    """Counted straight from the embedded server that `mdp run` started in data_dir."""
    port = EmbeddedPostgres(data_dir / "postgres").running_port()
    assert port, "the embedded PostgreSQL is not running"
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as conn:
        row = conn.execute("SELECT count(*) FROM trades").fetchone()
    return int(row[0]) if row else 0


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out


def _serving(base: str) -> bool:
    try:
        return httpx.get(f"{base}/symbols", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_run_serves_ingests_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(data_dir, port)
    try:
        started = time.monotonic()
        wait_for(lambda: _serving(base), timeout=60)
        print(f"serving /symbols {time.monotonic() - started:.1f}s after start")
        first = _stored_trades(data_dir)
        wait_for(lambda: _stored_trades(data_dir) > first + 10, timeout=20)
    finally:
        out = _stop(process)
    assert process.returncode == 0, out
    assert f"API:       {base}" in out and f"{base}/dashboard" in out
    assert EmbeddedPostgres(data_dir / "postgres").running_port() is None  # the server it started is stopped

    process = _start(data_dir, port)
    try:
        wait_for(lambda: _serving(base), timeout=60)
        assert _stored_trades(data_dir) > first + 10  # the second run sees the first run's data
    finally:
        _stop(process)
    assert process.returncode == 0


def test_web_concurrency_serves_from_several_processes_with_one_ingestion_leader(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        EMBEDDED_POSTGRES_PORT="0",
        INGESTION_INTERVAL_SECONDS="0.2",
        WEB_CONCURRENCY="2",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _serving(base), timeout=90)
        leaders: dict[str, bool] = {}

        def both_workers_answered() -> bool:
            body = httpx.get(f"{base}/metrics", timeout=5).json()
            leaders[body["instance_id"]] = body["is_ingestion_leader"]
            return len(leaders) == 2 and sum(leaders.values()) == 1

        # Both processes answer on the one port, and exactly one of them holds the ingestion lead.
        wait_for(both_workers_answered, timeout=30)
        wait_for(lambda: _stored_trades(data_dir) > 0)
        assert httpx.get(f"{base}/status/ingestion", timeout=5).json()["status"] == "alive"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert "serving with 2 worker processes" in out
    assert "Traceback" not in out, out
