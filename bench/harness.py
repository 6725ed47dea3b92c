"""What every benchmark needs: a PostgreSQL to measure on, migrated databases of its own there, the real service."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NoReturn

import httpx
import psycopg
from sqlalchemy.engine import make_url

from adapters.postgres import migrations
from adapters.postgres.embedded import EmbeddedPostgres, free_port
from adapters.postgres.url import libpq_url
from probes import Target, misses


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The server at DATABASE_URL when set (left running), else a throw-away embedded one."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", port=0)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def own_database(server_url: str, prefix: str = "mdp_bench") -> str:
    """A new, migrated database on the server, so a benchmark never touches anyone's data."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    return url


def drop_database(server_url: str, url: str) -> None:
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


RESULTS = Path(__file__).with_name("results")  # git-ignored


def keep(name: str, text: str) -> Path:
    """Save `text` as bench/results/NAME (a service's log, when a target was missed) and say where."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(text)
    print(f"kept in {path}", file=sys.stderr)
    return path


def exit_by_targets(targets: Iterable[Target], log_name: str, service_log: str) -> NoReturn:
    """Exit 0 when every target was met; else name each miss, keep the service's log and exit 1."""
    missed = misses(targets)
    for miss in missed:
        print(f"MISSED: {miss}", file=sys.stderr)
    if missed:
        keep(log_name, service_log)
    sys.exit(1 if missed else 0)


# Settings a benchmark's own instance never takes from the caller's environment.
OWN_SETTINGS = ("DATABASE_URL", "PORT", "HOST", "OPERATOR_TOKEN", "DASHBOARD_API_TOKEN", "INSTANCE_ID")


class Service:
    """The real `python -m entrypoints run` on a database, on a free loopback port; terminated on exit.

    Every other setting (REQUEST_DEADLINE_SECONDS, DB_MAX_REQUESTS, ...) comes from the caller's
    environment, so a benchmark can be run against a tuned instance.
    """

    def __init__(self, database_url: str, log_dir: Path, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"service-{self.port}.log"
        self._env = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
        self._env.update(DATABASE_URL=database_url, PORT=str(self.port), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        self._env.update(settings)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Service:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints", "run"], env=self._env, stdout=sink, stderr=subprocess.STDOUT
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM (the service drains and stops in order), SIGKILL when it does not within 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the service exited at startup:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/health/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the service was not ready within {timeout:g} s:\n{self.tail()}")
