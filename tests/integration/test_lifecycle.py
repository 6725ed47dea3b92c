"""The container command as real processes: compose environment, signals, and startup that fails fast."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable

import httpx
import pytest

from adapters.postgres import migrations
from adapters.postgres.embedded import free_port
from adapters.postgres.url import redacted
from tests.deployment import compose, dockerfile, exec_form, service_environment
from tests.integration.processes import ServiceProcess, run_command, scalar, service_env, wait_until

pytestmark = pytest.mark.processes


def _local(command: list[str]) -> list[str]:
    """A container command run here: `python` is this interpreter."""
    return [sys.executable if part == "python" else part for part in command]


def _stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_the_container_command_with_the_compose_environment_becomes_ready(
    fresh_database: Callable[..., str],
) -> None:
    url = fresh_database("mdp_compose")
    services = compose()["services"]
    migrate = subprocess.run(
        _local(services["migrate"]["command"]),
        env=service_env(service_environment("migrate", {"DATABASE_URL": url})),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr
    env = service_environment("api", {"DATABASE_URL": url, "INGESTION_INTERVAL_SECONDS": "0.5"})
    assert env["HOST"] == "0.0.0.0"
    env["PORT"] = str(free_port())  # the container's 8000 is not ours to take on a shared machine
    with ServiceProcess(env, args=_local(services["api"]["command"])[1:]) as api:
        wait_until(api.ready, api)
        (healthcheck,) = [arguments for instruction, arguments in dockerfile() if instruction == "HEALTHCHECK"]
        probe = subprocess.run(_local(exec_form(healthcheck)), env=service_env({"PORT": str(api.port)}), timeout=10)
        assert probe.returncode == 0, "the image's HEALTHCHECK passes against the running service"
        api.signal(signal.SIGINT)
        assert api.wait(30) == 0, api.output


def test_sigterm_during_ingestion_exits_0_and_leaves_only_whole_batches(
    fresh_database: Callable[..., str],
) -> None:
    url = fresh_database("mdp_sigterm")
    settings = {
        "DATABASE_URL": url,
        "INSTANCE_ID": "sigterm",
        "INGESTION_INTERVAL_SECONDS": "0.1",
        "INGESTION_TRADES_PER_TICK": "100",  # sizeable batches: SIGTERM is likely to land mid-batch
        "SHUTDOWN_TIMEOUT_SECONDS": "20",  # generous: this machine may be slow, the bound is not under test
    }
    with ServiceProcess(settings) as service:
        wait_until(lambda: (_batches(url) or 0) >= 5, service)
        service.signal(signal.SIGTERM)
        code = service.wait(30)
        output = service.output
    assert code == 0, output
    assert "ingestion stopped" in output, output
    assert "Traceback" not in output
    stored = scalar(url, "SELECT count(*) FROM trades")
    assert stored == scalar(url, "SELECT trades_ingested FROM ingestion_heartbeat"), "the last batch is whole"
    assert scalar(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0


def _batches(url: str) -> int | None:
    try:
        value = scalar(url, "SELECT batches_committed FROM ingestion_heartbeat")
    except Exception:  # the schema may not exist yet: the process migrates it first
        return None
    return int(value) if isinstance(value, int) else None


def test_startup_fails_fast_with_one_line_when_the_database_is_unreachable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    result = run_command({"DATABASE_URL": url, "DB_STARTUP_TIMEOUT_SECONDS": "1"}, timeout=30)
    assert result.returncode == 1
    (line,) = _stderr_lines(result)
    assert line.startswith(f"mdp: database {redacted(url)} unreachable for 1s (DB_STARTUP_TIMEOUT_SECONDS)")


def test_startup_refuses_a_schema_behind_the_code_until_mdp_migrate_runs(
    fresh_database: Callable[..., str],
) -> None:
    url = fresh_database("mdp_behind")
    settings = {"DATABASE_URL": url, "MIGRATE_ON_START": "false", "PORT": str(free_port())}
    refused = run_command(settings, timeout=30)
    assert refused.returncode == 1
    (line,) = _stderr_lines(refused)
    assert (
        line
        == f"mdp: database schema is at nothing but this version needs {migrations.head_revision()}: run `mdp migrate`"
    )
    migrated = run_command(settings, "migrate", timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    assert f"database schema at {migrations.head_revision()}" in migrated.stdout


def test_replicas_that_all_migrate_at_once_take_turns_and_all_succeed(fresh_database: Callable[..., str]) -> None:
    url = fresh_database("mdp_migrate_race")
    env = service_env({"DATABASE_URL": url})
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "entrypoints", "migrate", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [racer.communicate(timeout=120)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    head = migrations.head_revision()
    assert all(f"database schema at {head}" in output for output in outputs)
    assert migrations.current_revision(url) == head


class HangingUpstream:
    """Accepts TCP connections and never answers, so a request that calls it stays in flight."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.called = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self._held.append(connection)
            self.called.set()

    def close(self) -> None:
        self._server.close()
        for connection in self._held:
            connection.close()


def _refuses_connections(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/health", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        pass
    return False


def test_sigterm_stops_accepting_and_finishes_the_request_in_flight(database_url: str) -> None:
    upstream = HangingUpstream()
    settings = {
        "DATABASE_URL": database_url,
        "INGESTION_ENABLED": "false",
        # /dashboard calls this upstream and waits for it: a request that is in flight for 3 s.
        "DASHBOARD_API_BASE_URL": f"http://127.0.0.1:{upstream.port}",
        "DASHBOARD_FETCH_TIMEOUT_SECONDS": "3",
        "SHUTDOWN_TIMEOUT_SECONDS": "20",
    }
    answers: list[httpx.Response] = []
    try:
        with ServiceProcess(settings) as service:
            wait_until(service.ready, service)
            request = threading.Thread(target=lambda: answers.append(service.get_slow("/dashboard")))
            request.start()
            assert upstream.called.wait(30), "the dashboard request never reached its upstream"
            service.signal(signal.SIGTERM)
            wait_until(lambda: _refuses_connections(service.base_url), timeout=30)
            assert request.is_alive(), "new connections are refused while the request is still in flight"
            request.join(30)
            assert service.wait(30) == 0, service.output
    finally:
        upstream.close()
    (answer,) = answers
    assert answer.status_code == 200, "the request in flight was answered, not cut"
