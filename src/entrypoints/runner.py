"""The ingestion runner: one batch per interval until told to stop, surviving failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from application.failures import describe
from application.ingestion import IngestBatch
from application.ports import Leadership, LeadershipLost

log = logging.getLogger("mdp.ingestion")

Wait = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for `seconds`, returning early as soon as `stop` is set."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class IngestionRunner:
    """Runs `IngestBatch` every `interval` seconds on a fixed cadence.

    A failed attempt is logged on one line (the first three, then every tenth)
    and retried after half an interval, then once an interval, so a database
    that comes back sees a batch within about an interval; the batch it carried
    is dropped whole. Stopping lets
    the batch in flight finish (commit or roll back) and then returns. With a
    `leadership` port it writes only while this process leads, and resumes
    after the stored trades each time it becomes the leader.
    """

    def __init__(
        self,
        ingest: IngestBatch,
        interval: float,
        max_backoff: float,
        wait: Wait = wait_or_stop,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        leadership: Leadership | None = None,
    ) -> None:
        self._ingest = ingest
        self._interval = interval
        self._max_backoff = max_backoff
        self._wait = wait
        self._monotonic = monotonic
        self._leadership = leadership
        self._resumed = False
        self.consecutive_failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        log.info("ingestion started: one batch every %gs", self._interval)
        self._resumed = False
        while not stop.is_set():
            started = self._monotonic()
            backoff = await self._step()
            await self._wait(stop, self._interval - (self._monotonic() - started) if backoff is None else backoff)
        log.info("ingestion stopped")

    async def _step(self) -> float | None:
        """Lead, then write one batch; None when it committed, else how long to wait."""
        try:
            leading = await self._lead()
        except Exception as error:  # the store is unreachable: nobody can lead or write now
            return self._failed(error)
        if leading:
            return await self._attempt()
        if self.consecutive_failures:  # a follower recovers as soon as the store answers again
            log.info("ingestion store reachable again after %d failed attempts", self.consecutive_failures)
            self.consecutive_failures = 0
        return self._interval

    async def _lead(self) -> bool:
        """Hold or seek leadership; without a leadership port this process always leads."""
        if self._leadership is None:
            return True
        was = self._leadership.is_leader
        try:
            return await self._leadership.hold()
        finally:
            if self._leadership.is_leader != was:
                # Whoever leads next starts strictly after what is stored, which
                # may include batches another replica wrote since we last looked.
                self._resumed = False
                if self._leadership.is_leader:
                    log.info("this process is now the ingestion leader")
                else:
                    log.warning("this process is no longer the ingestion leader; it has stopped writing")

    async def _attempt(self) -> float | None:
        """One batch; None when it committed, else how long to back off."""
        try:
            if not self._resumed:
                await self._ingest.resume()
                self._resumed = True
            await self._ingest()
        except LeadershipLost as error:
            log.warning("ingestion batch not written: %s", error)
            self._resumed = False
            return self._interval
        except Exception as error:
            return self._failed(error)
        if self.consecutive_failures:
            log.info("ingestion recovered after %d failed attempts", self.consecutive_failures)
            self.consecutive_failures = 0
        return None

    def _failed(self, error: Exception) -> float:
        self._ingest.record_failure(error)
        self.consecutive_failures += 1
        # The next attempt is also the probe that finds the database back, so attempts come once an
        # interval however long it was out (a connection attempt is cheap). A first failure is retried
        # after half an interval: it is often a session the server ended while it was frozen (the
        # leader's lease), and the retry opens a new one.
        delay = min(self._max_backoff, self._interval / 2 if self.consecutive_failures == 1 else self._interval)
        if self.consecutive_failures <= 3 or self.consecutive_failures % 10 == 0:
            log.warning(
                "ingestion batch failed (attempt %d, retrying in %.1fs): %s",
                self.consecutive_failures,
                delay,
                describe(error, redact=False),
            )
        return delay
