"""The `mdp` command line: clear help on every command, one line and exit status 2 for a wrong flag or value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from entrypoints.cli import main
from entrypoints.status import render
from market_data_client.contract import (
    Counts,
    IngestionStats,
    IngestionStatusResponse,
    Latency,
    LatencySummary,
    MetricsResponse,
    RouteLatencyResponse,
)

COMMANDS = ("run", "api", "ingest", "migrate", "backfill", "status")


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    return int(raised.value.code or 0)


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert f"    {command} " in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mdp {command}")
    assert len(out.split("\n\n")[1].strip()) > 20, "a description, not just the usage line"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--frob"], "unrecognized arguments: --frob"),
        (["status", "--url", "ftp://example"], "'ftp://example' is not an http:// or https:// URL"),
        (["status", "--timeout", "0"], "'0' must be a positive number of seconds"),
        (["migrate", "sideways"], "invalid choice: 'sideways'"),
        (["backfill", "--hours", "-1"], "'-1' must be a positive number"),
        (["backfill"], "one of the arguments --hours --days is required"),
        (["teleport"], "invalid choice: 'teleport'"),
    ],
)
def test_a_wrong_flag_or_value_is_one_line_and_exit_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(argv) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert says in line
    assert line.startswith("mdp")
    assert "--help" in line
    assert captured.out == ""


def test_migrate_down_without_a_revision_is_one_line_and_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "down"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "a target revision is required" in line


def test_a_bad_setting_is_one_line_and_exit_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "eighty")
    assert main(["status"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mdp: configuration error: PORT='eighty' is invalid")


STARTED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _status(**changes: Any) -> IngestionStatusResponse:
    fields: dict[str, Any] = {
        "status": "alive",
        "heartbeat_at": STARTED,
        "heartbeat_age_seconds": 0.4,
        "last_trade_at": STARTED,
        "seconds_since_last_trade": 0.5,
        "stale_after_seconds": 3.0,
        "interval_seconds": 1.0,
        "db_healthy": True,
        "db_latency_ms": 1.25,
        "db_error": None,
        "figures_source": "live",
        "figures_read_at": STARTED,
        "started_at": STARTED,
        "uptime_seconds": 3725.2,
        "instance_id": "api-2",
    }
    return IngestionStatusResponse(**(fields | changes))


def _metrics(status: IngestionStatusResponse) -> MetricsResponse:
    figures = {"batches_committed": 99, "trades_ingested": 123456, "last_batch_trades": 5}
    figures |= {"last_batch_duration_ms": 2.0, "failed_attempts": 1, "last_error": None, "last_error_at": None}
    quiet = LatencySummary(
        count=0, errors_4xx=0, errors_5xx=0, mean_ms=None, p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None
    )
    busy = msgspec.structs.replace(quiet, count=7, p50_ms=3.2)
    return MetricsResponse(
        instance_id=status.instance_id,
        version="0.1.0",
        started_at=status.started_at,
        uptime_seconds=status.uptime_seconds,
        db_healthy=status.db_healthy,
        db_latency_ms=status.db_latency_ms,
        db_error=status.db_error,
        counts=Counts(trades=123456, candles=42, exact=True, source="live", read_at=STARTED),
        ingestion=IngestionStats(**msgspec.structs.asdict(status), **figures),
        latency=Latency(
            window_seconds=60,
            routes=[
                RouteLatencyResponse(method="GET", route="/candles", since_start=busy, last_minute=busy),
                RouteLatencyResponse(method="GET", route="/trades", since_start=busy, last_minute=quiet),
            ],
        ),
        is_ingestion_leader=True,
    )


def test_status_lines_name_the_replica_its_role_and_the_freshness() -> None:
    status = _status()
    lines = render("http://api-2:8000", status, _metrics(status))
    assert lines[0] == "instance   api-2 at http://api-2:8000 (ingestion leader)"
    assert lines[1].startswith("ingestion  ALIVE   heartbeat 0.4s ago")
    assert "healthy (1.25 ms)" in lines[2]
    assert lines[3] == "uptime     1h02m05s (since 2026-11-29T10:00:00Z)"
    assert "batches    99 committed, 123,456 trades, 1 failed attempts" in lines
    assert "trades 123,456   candles 42" in "\n".join(lines)
    assert any(line.startswith("latency    GET /candles: p50 3.2 ms") for line in lines)
    assert not any("/trades" in line for line in lines), "a route without requests in the last minute is left out"


def test_status_lines_without_metrics_still_say_what_is_known() -> None:
    status = _status(status="dead", heartbeat_age_seconds=None, db_healthy=False, db_error="timeout")
    lines = render("http://x", status, None)
    assert lines[0] == "instance   api-2 at http://x"
    assert lines[1].startswith("ingestion  DEAD   heartbeat never")
    assert lines[2] == "database   UNHEALTHY: timeout"
