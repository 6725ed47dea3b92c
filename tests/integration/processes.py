"""Real service processes for lifecycle and replica tests: start, probe, signal, read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx
import psycopg

from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url

# Only what a process needs from the outside; every setting is passed explicitly.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def service_env(settings: Mapping[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    env.update(settings)
    return env


class ServiceProcess:
    """`python -m entrypoints ...` in a process of its own, its output in a file."""

    def __init__(self, settings: Mapping[str, str], args: Sequence[str] = ("-m", "entrypoints")) -> None:
        self.port = int(settings.get("PORT") or free_port())
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.instance_id = settings.get("INSTANCE_ID", "")
        self._output = Path(tempfile.mkstemp(prefix="mdp-process-", suffix=".log")[1])
        with self._output.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, *args],
                env=service_env({**settings, "PORT": str(self.port)}),
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def output(self) -> str:
        return self._output.read_text(errors="replace")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=5)

    def get_slow(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=60)

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self._output.unlink(missing_ok=True)


def replica(url: str, name: str, interval: float) -> ServiceProcess:
    """One replica of `mdp run` on a migrated database, as the replica tests run them."""
    return ServiceProcess(
        {
            "DATABASE_URL": url,
            "INSTANCE_ID": name,
            "INGESTION_INTERVAL_SECONDS": str(interval),
            "MIGRATE_ON_START": "false",
            "DB_POOL_SIZE": "2",
            "SHUTDOWN_TIMEOUT_SECONDS": "5",
        }
    )


def run_command(settings: Mapping[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m entrypoints ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "entrypoints", *args],
        env=service_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(url: str, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url), connect_timeout=3) as conn:
        return list(conn.execute(sql, params).fetchall())


def scalar(url: str, sql: str, params: Sequence[object] = ()) -> object:
    rows = query(url, sql, params)
    return rows[0][0] if rows else None


def leader_instance(url: str) -> str | None:
    """The INSTANCE_ID whose dedicated session holds the ingestion lock, read from PostgreSQL itself."""
    from adapters.postgres.leader import INGESTION_LEADER_KEY

    name = scalar(
        url,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.objid::bigint = %s AND l.granted"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (INGESTION_LEADER_KEY,),
    )
    return str(name).removeprefix("mdp-leader ") if name else None


def wait_until(predicate: Callable[[], object], *processes: ServiceProcess, timeout: float = 60) -> None:
    """Poll `predicate`; fail early, with the output, when a process it depends on has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in processes:
            if not process.alive():
                raise AssertionError(f"process exited with {process.process.returncode}:\n{process.output[-4000:]}")
        time.sleep(0.1)
    tails = "\n---\n".join(p.output[-3000:] for p in processes)
    raise AssertionError(f"condition not met within {timeout}s; output:\n{tails}")
