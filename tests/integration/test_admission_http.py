"""Overload is not an outage: beyond DB_MAX_REQUESTS a request is told the service is busy, at once, while
the status endpoints go on telling the truth about a healthy database and a live ingestion."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.integration.support import LiveServer, make_settings, wait_for

DAY = "symbol=AAPL&interval=1m&start=2026-11-28T00:00:00Z&end=2026-11-29T00:00:00Z"


async def flood(base: str, requests: int) -> tuple[list[httpx.Response], list[dict[str, object]], list[int]]:
    limits = httpx.Limits(max_connections=requests + 4)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        work = [client.get(f"/candles?{DAY}") for _ in range(requests)]
        work += [client.get(f"/trades?{DAY.replace('interval=1m&', '')}") for _ in range(requests)]
        flooded = asyncio.gather(*work)
        statuses, ready = [], []
        while not flooded.done():
            statuses.append((await client.get("/status/ingestion")).json())
            ready.append((await client.get("/health/ready")).status_code)
            await asyncio.sleep(0.02)
        return list(await flooded), statuses, ready


def test_a_flood_is_shed_as_busy_while_the_status_stays_true(clean_db: str) -> None:
    settings = make_settings(clean_db, ingestion_enabled=True, ingestion_interval_seconds=0.2, db_max_requests=2)
    with LiveServer(settings, clean_db) as server:
        base = server.base_url
        wait_for(lambda: httpx.get(f"{base}/status/ingestion").json()["status"] == "alive")
        responses, statuses, ready = asyncio.run(flood(base, 60))
        shed = httpx.get(f"{base}/metrics").json()["requests_shed"]
    outcomes = Counter(r.status_code for r in responses)
    assert set(outcomes) <= {200, 503} and outcomes[503] > 0, outcomes
    for response in (r for r in responses if r.status_code == 503):
        assert response.headers["retry-after"] == "1"
        problem = response.json()
        assert problem["title"] == "Service busy" and "the service is busy" in problem["detail"]
        assert "unavailable" not in problem["detail"]
    assert shed == {"busy": outcomes[503], "deadline": 0}
    # Asked during the flood, the status never called the healthy database unhealthy or the live ingestion dead.
    assert statuses and all(s["db_healthy"] is True and s["status"] == "alive" for s in statuses), statuses
    assert ready and set(ready) == {200}
