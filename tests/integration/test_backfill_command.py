"""`mdp backfill` as a user runs it: COPY in one transaction, history prepended, bad flags refused."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from adapters.postgres.url import libpq_url
from tests.integration.market_data_support import assert_candles_true


def _mdp(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _span(url: str) -> tuple[int, object, object]:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*), min(ts), max(ts) FROM trades").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_backfill_loads_history_and_a_second_run_prepends(clean_db: str) -> None:
    first = _mdp("backfill", "--hours", "0.05", "--rate", "20", "--seed", "1", url=clean_db)
    assert first.returncode == 0, first.stderr
    count, oldest, _newest = _span(clean_db)
    assert 16_000 < count < 20_000  # 5 symbols x 20/s x 180 s, Poisson
    assert f"backfilled {count:,} trades" in first.stdout
    second = _mdp("backfill", "--hours", "0.01", "--seed", "2", url=clean_db)
    assert second.returncode == 0, second.stderr
    total, new_oldest, _ = _span(clean_db)
    assert total > count
    with psycopg.connect(libpq_url(clean_db)) as conn:
        late = conn.execute("SELECT max(ts) FROM trades WHERE ts < %s", (oldest,)).fetchone()
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT symbol, ts FROM trades GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()
    assert late is not None and late[0] < oldest and new_oldest < oldest
    assert duplicates == (0,)
    with psycopg.connect(libpq_url(clean_db)) as conn:
        counted = conn.execute("SELECT sum(rows) FROM row_counts WHERE table_name = 'trades'").fetchone()
        watermark = conn.execute("SELECT watermark FROM ingestion_watermark").fetchone()
    assert counted == (total,)
    # The candles of both spans came with them, and the spans are final: the watermark is at the first one's end.
    assert_candles_true(clean_db)
    assert watermark is not None and watermark[0] > _newest


def test_candles_rebuild_reports_what_differed(clean_db: str) -> None:
    assert _mdp("backfill", "--hours", "0.05", "--rate", "5", "--seed", "3", url=clean_db).returncode == 0
    with psycopg.connect(libpq_url(clean_db)) as conn:
        missing = conn.execute("DELETE FROM candles WHERE symbol = 'AAPL' AND interval IN ('1m', '1d')").rowcount
        wrong = conn.execute("UPDATE candles SET volume = volume + 1 WHERE symbol = 'MSFT' AND interval = '1h'")
    assert missing >= 4 and wrong.rowcount >= 1
    result = _mdp("candles", "rebuild", url=clean_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith(f": {missing + wrong.rowcount:,} stored candles differed")
    assert_candles_true(clean_db)
    again = _mdp("candles", "rebuild", "--symbol", "AAPL", url=clean_db)
    assert again.returncode == 0 and again.stdout.rstrip().endswith(": 0 stored candles differed")


def test_a_backfill_ending_in_the_future_is_refused(clean_db: str) -> None:
    result = _mdp("backfill", "--hours", "1", "--end", "2999-01-01T00:00:00Z", url=clean_db)
    assert result.returncode == 2
    assert "in the future" in result.stderr
    assert _span(clean_db)[0] == 0


def test_a_wrong_value_is_one_clear_line_and_exit_code_2(clean_db: str) -> None:
    result = _mdp("backfill", "--hours", "-3", url=clean_db)
    assert result.returncode == 2
    assert "must be a positive number" in result.stderr
    result = _mdp("backfill", "--hours", "1", "--end", "2026-01-01T00:00:00", url=clean_db)
    assert result.returncode == 2
    assert "no UTC offset" in result.stderr
