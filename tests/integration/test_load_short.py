"""The load run, short: wrk's mixed endpoints, then a flood, against the real service while it ingests.

bench/load.py runs the full-length phases and prints the latencies; here only what must hold every time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from load import Shape, report, run_load

pytestmark = pytest.mark.processes


def test_mixed_load_and_a_flood_get_answers_and_never_stall_ingestion(server_url: str, tmp_path: Path) -> None:
    if not (os.environ.get("WRK") or shutil.which("wrk")):
        pytest.fail("no wrk on PATH: `make test` installs it as root (apt-get install wrk), or set WRK")
    shape = Shape(mixed_seconds=10, mixed_connections=16, flood_seconds=10, flood_connections=48)
    run = run_load(server_url, shape, tmp_path)
    report(run)  # the tables print (pytest shows them when the test fails)

    assert [p.name for p in run.phases] == ["mixed", "flood"]
    for phase in run.phases:
        assert phase.wrk.requests > 0
        assert phase.wrk.socket_errors == 0, phase.wrk.errors
        # 200, or 503 with Retry-After when shedding; never another error.
        assert set(phase.wrk.statuses) <= {"200", "503"}, phase.wrk.details
        assert phase.sql_ages and None not in phase.sql_ages
        assert phase.max_sql_age() <= run.stale_after, "the heartbeat went stale in the table"
