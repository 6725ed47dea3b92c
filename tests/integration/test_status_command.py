"""`mdp status` reads a running instance over HTTP, as it would a remote deployment."""

from __future__ import annotations

import json

import msgspec
import psycopg
import pytest

from adapters.postgres.embedded import free_port
from adapters.postgres.url import libpq_url
from entrypoints.cli import main
from market_data_client.contract import IngestionStatusResponse, MetricsResponse
from tests.integration.support import LiveServer, make_settings


def _beat_now(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ingestion_heartbeat (source, beat_at, last_trade_at, batches_committed, trades_ingested,"
            " last_batch_trades, last_batch_duration_ms, failed_attempts)"
            " VALUES ('synthetic', now(), now(), 7, 35, 5, 2.5, 0)"
        )


def test_status_of_a_live_instance_with_fresh_ingestion_exits_0(
    live_server: LiveServer, clean_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _beat_now(clean_db)
    assert main(["status", "--url", live_server.base_url]) == 0
    out = capsys.readouterr().out
    assert "ingestion  ALIVE" in out
    assert "not the ingestion leader" in out  # this test server runs no ingestion
    assert "batches    7 committed, 35 trades" in out


def test_status_when_ingestion_is_dead_exits_1(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--url", live_server.base_url]) == 1
    assert "ingestion  DEAD   heartbeat never" in capsys.readouterr().out


def test_status_of_an_instance_that_does_not_answer_is_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["status", "--url", url, "--timeout", "1"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"mdp status: {url}/status/ingestion: ")


def test_a_reader_that_closes_the_pipe_is_not_an_error(live_server: LiveServer, clean_db: str) -> None:
    import subprocess
    import sys

    _beat_now(clean_db)
    command = f"{sys.executable} -m entrypoints status --json --url {live_server.base_url} | true"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_status_json_prints_both_documents_as_the_contract_encodes_them(
    live_server: LiveServer, clean_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _beat_now(clean_db)
    assert main(["status", "--json", "--url", live_server.base_url]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert set(documents) == {"status", "metrics"}
    assert msgspec.convert(documents["status"], IngestionStatusResponse).status == "alive"
    assert msgspec.convert(documents["metrics"], MetricsResponse).ingestion.batches_committed == 7
    assert documents["status"]["started_at"].endswith("Z")  # times as the API writes them


def test_status_sends_the_operator_token_from_the_environment(
    clean_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `docker compose exec api mdp status` does: the container has OPERATOR_TOKEN set.
    _beat_now(clean_db)
    with LiveServer(make_settings(clean_db, operator_token="s3cret"), clean_db) as server:
        assert main(["status", "--url", server.base_url]) == 0
        assert "batches" not in capsys.readouterr().out  # /metrics refused it: no token
        monkeypatch.setenv("OPERATOR_TOKEN", "s3cret")
        assert main(["status", "--url", server.base_url]) == 0
    assert "batches    7 committed, 35 trades" in capsys.readouterr().out
