"""Ingestion and the status monitor on an event loop and a thread of their own, so HTTP load cannot starve them.

Under a flood the API's loop is busy with requests, and anything sharing it
waits behind them: a batch misses its interval and a status read misses its
deadline, so a live ingestion looks dead and a healthy database unhealthy. Here
they run on a second loop with a container of their own: their own small pool
(the reserved connections), their own leader session. The status endpoints ask
this loop for what it measured (see `StatusReporter` for how often).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

import msgspec

from application.ingestion_status import FiguresSource, GetIngestionStatus, IngestionReport
from application.ports import DatabaseHealth, HealthProbe, Leadership
from domain.freshness import assess_freshness
from entrypoints.container import build_container, resolve, start_resources, stop_resources
from entrypoints.runner import wait_or_stop
from entrypoints.settings import Settings

T = TypeVar("T")

log = logging.getLogger("mdp.operations")

MONITOR_PERIOD_SECONDS = 1.0
READINESS_DEADLINE_SECONDS = 1.0
ANSWER_MARGIN_SECONDS = 0.5
"""Beyond the database deadline, how long the API's loop waits for the operations loop's answer."""
RESERVED_POOL_SIZE = 2
"""Connections of the operations loop: the monitor's two reads run side by side."""


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """What the monitor measured, and when (monotonic seconds)."""

    report: IngestionReport
    health: DatabaseHealth
    is_leader: bool
    taken_at: float


@dataclass(frozen=True, slots=True)
class _Probes:
    status: GetIngestionStatus
    database: HealthProbe
    readiness: HealthProbe
    leadership: Leadership


class OperationsThread:
    """Owns the second loop: start once, ask it for measurements from the API's loop, stop once."""

    def __init__(self, settings: Settings, database_url: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = msgspec.structs.replace(
            settings, db_pool_size=RESERVED_POOL_SIZE, db_max_overflow=0, db_pool_timeout_seconds=1.0
        )
        self._url = database_url
        self._monotonic = monotonic
        self._thread = threading.Thread(target=self._main, name="mdp-operations", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._probes: _Probes | None = None
        self._refreshing: asyncio.Future[StatusSnapshot] | None = None
        """On the operations loop: the read in flight there."""
        self._measuring: asyncio.Future[StatusSnapshot] | None = None
        """On the API's loop: the request to the operations loop in flight."""
        self._started = threading.Event()
        self.snapshot: StatusSnapshot | None = None
        """Replaced whole; a reader on any thread sees one snapshot or the next, never a mix."""

    def start(self) -> None:
        self._thread.start()

    async def wait_started(self, timeout: float) -> None:
        await asyncio.to_thread(self._started.wait, timeout)

    async def measure(self, max_age: float = 0.0) -> StatusSnapshot:
        """The last snapshot if at most `max_age` seconds old, else a new one, shared by everyone waiting for it."""
        snapshot = self.snapshot
        if max_age > 0 and snapshot is not None and self._monotonic() - snapshot.taken_at <= max_age:
            return snapshot
        # Callers on this loop share one request to the other loop, as they share its read there.
        if self._measuring is None or self._measuring.done():
            self._measuring = asyncio.ensure_future(self._measure_on_own_loop(snapshot))
        return await asyncio.shield(self._measuring)

    async def _measure_on_own_loop(self, snapshot: StatusSnapshot | None) -> StatusSnapshot:
        deadline = self._settings.status_db_timeout_seconds
        try:
            return await self._on_own_loop(self._refresh, deadline + ANSWER_MARGIN_SECONDS)
        except Exception as error:  # the loop is stuck or gone: say so, with the last figures known
            log.warning("status snapshot not taken: %s", type(error).__name__)
            return self._unanswered(snapshot, f"no answer within {deadline:g}s")

    async def database_health(self) -> DatabaseHealth:
        """Readiness: a live `SELECT 1` on the reserved connections, shared by concurrent callers."""
        timeout = READINESS_DEADLINE_SECONDS
        try:
            health = await self._on_own_loop(self._ready, timeout + ANSWER_MARGIN_SECONDS)
        except Exception:
            return DatabaseHealth(False, None, f"no answer within {timeout:g}s")
        snapshot = self.snapshot
        if snapshot is not None and snapshot.health.healthy != health.healthy:
            self.snapshot = None  # it no longer tells the truth: the next status read measures again
        return health

    async def stop(self) -> None:
        """Lets the batch in flight commit or roll back (bounded by the shutdown timeout), then returns."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, self._settings.shutdown_timeout_seconds + 5)

    async def _on_own_loop(self, call: Callable[[], Awaitable[T]], timeout: float) -> T:
        loop = self._loop
        if loop is None or loop.is_closed() or self._probes is None:
            raise RuntimeError("the operations loop is not running")
        future = asyncio.run_coroutine_threadsafe(_call(call), loop)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        finally:
            future.cancel()  # no-op once done; otherwise the other loop drops the call

    def _unanswered(self, snapshot: StatusSnapshot | None, error: str) -> StatusSnapshot:
        health = DatabaseHealth(False, None, error)
        if snapshot is None:
            report = IngestionReport(
                assess_freshness(None, datetime.now(UTC), self._settings.ingestion_interval_seconds),
                None,
                FiguresSource.NONE,
                None,
                error,
            )
            return StatusSnapshot(report, health, False, self._monotonic())
        report = replace(snapshot.report, source=FiguresSource.LAST_KNOWN, store_error=error)
        return StatusSnapshot(report, health, snapshot.is_leader, snapshot.taken_at)

    # On the operations loop from here on.

    async def _refresh(self) -> StatusSnapshot:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._take_snapshot())
        return await asyncio.shield(self._refreshing)

    async def _take_snapshot(self) -> StatusSnapshot:
        probes = self._probes
        assert probes is not None
        report, health = await asyncio.gather(probes.status(), probes.database.check())
        snapshot = StatusSnapshot(report, health, probes.leadership.is_leader, self._monotonic())
        self.snapshot = snapshot
        return snapshot

    async def _ready(self) -> DatabaseHealth:
        assert self._probes is not None
        return await self._probes.readiness.check()

    def _main(self) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._serve())
        except Exception:
            log.exception("the operations loop (ingestion and status monitor) failed")
        finally:
            self._started.set()

    async def _serve(self) -> None:
        self._stop = stop = asyncio.Event()
        container = build_container(self._settings, self._url)
        await start_resources(container)
        try:
            self._probes = _Probes(
                await resolve(container.use_cases.get_ingestion_status),
                await resolve(container.gateways.status_probe),
                await resolve(container.gateways.health_probe),
                await resolve(container.gateways.leadership),
            )
            self._loop = asyncio.get_running_loop()
            monitor = asyncio.create_task(self._monitor(stop), name="status-monitor")
            runner = None
            if self._settings.ingestion_enabled:
                ingestion = await resolve(container.ingestion_runner)
                runner = asyncio.create_task(ingestion.run(stop), name="ingestion")
            self._started.set()
            await stop.wait()
            if runner is not None:
                await _finish(runner, self._settings.shutdown_timeout_seconds)
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        finally:
            self._loop = None
            await stop_resources(container)

    async def _monitor(self, stop: asyncio.Event) -> None:
        """Keeps a snapshot (and the reserved connections) warm while nobody asks."""
        while not stop.is_set():
            try:
                await self._refresh()
            except Exception:  # built never to raise; a bug must not end the monitor
                log.exception("status check failed")
            await wait_or_stop(stop, MONITOR_PERIOD_SECONDS)


async def _call(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


async def _finish(task: asyncio.Task[None], timeout: float) -> None:
    """Let the batch in flight commit or roll back; cancel only past the shutdown timeout."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        log.warning("ingestion did not stop within %gs; cancelling it (its transaction rolls back)", timeout)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it; the standard loop works too
        return None
    return uvloop.new_event_loop
