"""The stream across real processes: a replica that does not ingest streams the leader's changes, through a
leader's death, with no gap and no duplicate; SIGTERM ends open streams and the process exits 0."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest

from adapters.postgres import migrations
from tests.integration.processes import leader_instance, query, replica, wait_until
from tests.integration.stream_support import StreamReader

pytestmark = pytest.mark.processes

INTERVAL = 0.3


def logged(url: str, after: int) -> list[int]:
    rows = query(url, "SELECT seq FROM candle_changes WHERE symbol = 'AAPL' AND interval = '1m' AND seq > %s", (after,))
    return sorted(int(r[0]) for r in rows)


def test_a_follower_streams_the_leaders_changes_through_a_leader_kill(fresh_database: Callable[..., str]) -> None:
    url = fresh_database("mdp_stream_replicas")
    migrations.upgrade(url)
    with replica(url, "r1", INTERVAL) as r1, replica(url, "r2", INTERVAL) as r2:
        wait_until(lambda: r1.ready() and r2.ready() and leader_instance(url), r1, r2)
        leader, follower = (r1, r2) if leader_instance(url) == "r1" else (r2, r1)
        reader = StreamReader(f"{follower.base_url}/candles/stream", {"symbol": "AAPL"}).start()
        reader.wait_for(lambda events: len(events) >= 3, timeout=20)
        leader.signal(signal.SIGKILL)
        leader.wait()
        wait_until(lambda: leader_instance(url) == follower.instance_id, follower, timeout=30)
        taken_over = max(logged(url, 0))
        reader.wait_for(lambda events: max((e.id or 0) for e in events) > taken_over + 20, timeout=30)
        reader.stop()
        received = [e.id for e in reader.candles()]
        first, last = received[0], received[-1]
        assert received == [seq for seq in logged(url, first - 1) if seq <= last]  # no gap, no duplicate


def test_sigterm_ends_open_streams_and_the_process_exits_cleanly(fresh_database: Callable[..., str]) -> None:
    url = fresh_database("mdp_stream_sigterm")
    migrations.upgrade(url)
    with replica(url, "r1", INTERVAL) as service:
        wait_until(service.ready, service)
        reader = StreamReader(f"{service.base_url}/candles/stream").start()
        reader.wait_for(lambda events: len(events) >= 1, timeout=20)
        began = time.monotonic()
        service.signal(signal.SIGTERM)
        assert reader.ended.wait(5), "the stream was still open after SIGTERM"
        assert service.wait(timeout=10) == 0
        assert time.monotonic() - began < 5 + 2  # within the shutdown timeout
