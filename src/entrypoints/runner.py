"""The ingestion runner: one batch per interval until told to stop, surviving failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from application.ingestion import IngestBatch

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

    A failed attempt is logged on one line and retried after a capped
    exponential backoff; the batch it carried is dropped whole. Stopping lets
    the batch in flight finish (commit or roll back) and then returns.
    """

    def __init__(
        self,
        ingest: IngestBatch,
        interval: float,
        max_backoff: float,
        wait: Wait = wait_or_stop,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ingest = ingest
        self._interval = interval
        self._max_backoff = max_backoff
        self._wait = wait
        self._monotonic = monotonic
        self.consecutive_failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        resumed = False
        log.info("ingestion started: one batch every %gs", self._interval)
        while not stop.is_set():
            started = self._monotonic()
            try:
                if not resumed:
                    await self._ingest.resume()
                    resumed = True
                await self._ingest()
            except Exception as error:
                self._ingest.record_failure(error)
                self.consecutive_failures += 1
                delay = min(self._max_backoff, self._interval * 2 ** (self.consecutive_failures - 1))
                log.warning(
                    "ingestion batch failed (attempt %d, retrying in %.1fs): %s: %s",
                    self.consecutive_failures,
                    delay,
                    type(error).__name__,
                    _first_line(error),
                )
                await self._wait(stop, delay)
                continue
            if self.consecutive_failures:
                log.info("ingestion recovered after %d failed attempts", self.consecutive_failures)
                self.consecutive_failures = 0
            await self._wait(stop, self._interval - (self._monotonic() - started))
        log.info("ingestion stopped")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""
