"""Probes of a live service: endpoints polled concurrently over HTTP (status, latency), the heartbeat's age in SQL."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import httpx
import psycopg

from adapters.postgres.url import libpq_url

HEARTBEAT_AGE = "SELECT extract(epoch FROM clock_timestamp() - beat_at)::float8 FROM ingestion_heartbeat"


def deadline_seconds() -> float:
    """The service's per-request deadline (REQUEST_DEADLINE_SECONDS, default 2 s) plus the 0.5 s the targets allow."""
    return float(os.environ.get("REQUEST_DEADLINE_SECONDS", "2")) + 0.5


def epoch_ms(seconds_ago: float) -> int:
    return int((time.time() - seconds_ago) * 1000)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A name, the path to ask now (times move), and what to read off a 200 answer (or nothing)."""

    name: str
    path: Callable[[], str]
    read: Callable[[bytes], object] | None = None


def every_endpoint(symbol: str = "AAPL") -> list[Endpoint]:
    """What the fault campaign polls: every public endpoint, reads over the last hour."""
    return [
        Endpoint("/health", lambda: "/health"),
        Endpoint("/health/ready", lambda: "/health/ready"),
        Endpoint("/status/ingestion", lambda: "/status/ingestion"),
        Endpoint("/metrics", lambda: "/metrics"),
        Endpoint("/symbols", lambda: "/symbols"),
        Endpoint(
            "/trades limit=100",
            lambda: f"/trades?symbol={symbol}&start={epoch_ms(3600)}&end={epoch_ms(-60)}&limit=100",
        ),
        Endpoint(
            "/candles 1m x 1h",
            lambda: f"/candles?symbol={symbol}&interval=1m&start={epoch_ms(3600)}&end={epoch_ms(-60)}",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: `status` is the HTTP status as text, or `error:<exception>` when none came."""

    endpoint: str
    status: str
    seconds: float
    at: float  # time.monotonic() when it was sent
    value: object = None

    @property
    def server_error(self) -> bool:
        """A 5xx other than 503: a failure, never an answer the service meant to give."""
        return self.status.startswith("5") and self.status != "503"

    @property
    def transport_error(self) -> bool:
        return self.status.startswith("error:")


class Probes:
    """Asks every endpoint once per `period` (or as soon as its previous answer came), concurrently,
    from a thread and event loop of its own, between `__enter__` and `__exit__`."""

    def __init__(self, base_url: str, endpoints: Sequence[Endpoint], period: float, timeout: float = 30) -> None:
        self.samples: list[Sample] = []
        self._base_url, self._endpoints, self._period, self._timeout = base_url, endpoints, period, timeout
        self._loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)
        self._started = threading.Event()

    def __enter__(self) -> Probes:
        self._thread.start()
        self._started.wait(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=self._timeout + 10)
        if not self._thread.is_alive():
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        limits = httpx.Limits(max_connections=len(self._endpoints) + 1)
        async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout, limits=limits) as client:
            self._started.set()
            await asyncio.gather(*(self._poll(client, endpoint) for endpoint in self._endpoints))

    async def _poll(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            sent = time.monotonic()
            self.samples.append(await self._ask(client, endpoint, sent))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, self._period - (time.monotonic() - sent)))

    @staticmethod
    async def _ask(client: httpx.AsyncClient, endpoint: Endpoint, sent: float) -> Sample:
        try:
            response = await client.get(endpoint.path())
        except httpx.HTTPError as error:
            return Sample(endpoint.name, f"error:{type(error).__name__}", time.monotonic() - sent, sent)
        took = time.monotonic() - sent
        value = endpoint.read(response.content) if endpoint.read and response.status_code == 200 else None
        return Sample(endpoint.name, str(response.status_code), took, sent, value)


class HeartbeatAges:
    """Reads the heartbeat's age in SQL every `period` from a thread of its own, between enter and exit."""

    def __init__(self, url: str, period: float) -> None:
        self.samples: list[tuple[float, float | None]] = []
        self._url, self._period = url, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HeartbeatAges:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                conn = conn or psycopg.connect(libpq_url(self._url), connect_timeout=5, autocommit=True)
                row = conn.execute(HEARTBEAT_AGE).fetchone()
                self.samples.append((began, float(row[0]) if row else None))
            except psycopg.Error:
                self.samples.append((began, None))
                conn = None
            self._stop.wait(max(0.0, self._period - (time.monotonic() - began)))
        if conn is not None:
            conn.close()


class Target(NamedTuple):
    """One target of a benchmark: what, the figure measured, what was wanted, whether it was met."""

    what: str
    figure: object
    wanted: str
    met: bool


def misses(targets: Iterable[Target]) -> list[str]:
    return [f"{t.what}: {t.figure} (target {t.wanted})" for t in targets if not t.met]


def print_targets(targets: Sequence[Target]) -> None:
    print("\ntargets")
    print_table(
        ("target", "figure", "wanted", ""), [[t.what, t.figure, t.wanted, "ok" if t.met else "MISSED"] for t in targets]
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q percent of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def statuses(samples: Iterable[Sample]) -> str:
    counts = Counter(s.status for s in samples)
    return " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table, numbers right-aligned, as the other benchmarks print."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def endpoint_rows(samples: Sequence[Sample], deadline: float) -> list[list[object]]:
    """Per endpoint: requests, statuses, p50/p99/max, over the deadline, 5xx other than 503, no answer."""
    rows: list[list[object]] = []
    names = list(dict.fromkeys(s.endpoint for s in samples))
    for name in [*names, "all"]:
        mine = [s for s in samples if name in ("all", s.endpoint)]
        took = [s.seconds for s in mine]
        rows.append(
            [
                name,
                len(mine),
                statuses(mine),
                ms(percentile(took, 50)),
                ms(percentile(took, 99)),
                ms(max(took, default=math.nan)),
                sum(t > deadline for t in took),
                sum(s.server_error for s in mine),
                sum(s.transport_error for s in mine),
            ]
        )
    return rows


def endpoint_header(deadline: float) -> tuple[str, ...]:
    return (
        "endpoint",
        "requests",
        "statuses",
        "p50 ms",
        "p99 ms",
        "max ms",
        f"over {deadline:g} s",
        "5xx≠503",
        "no answer",
    )
