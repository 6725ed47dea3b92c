"""Use case: the ingestion status and store figures, answered within a deadline even when the store is not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from application.failures import describe
from application.ports import Clock, StatisticsReader, StoreStatistics
from application.single_flight import SingleFlight
from domain.freshness import Freshness, assess_freshness


class FiguresSource(StrEnum):
    LIVE = "live"
    """Read from the store for this answer."""
    LAST_KNOWN = "last_known"
    """The store did not answer in time; these are the figures of the last read that did."""
    NONE = "none"
    """The store has not answered once since this process started."""


@dataclass(frozen=True, slots=True)
class IngestionReport:
    """Freshness judged now, from the freshest heartbeat this process could get."""

    freshness: Freshness
    statistics: StoreStatistics | None
    source: FiguresSource
    read_at: datetime | None
    store_error: str | None
    checked_at: datetime | None = None
    """When freshness was judged: ages are taken at this moment."""

    def as_of(self, now: datetime) -> IngestionReport:
        """The same figures with freshness judged at `now`: a report kept for a while still turns dead in time."""
        heartbeat = self.statistics.heartbeat if self.statistics else None
        freshness = assess_freshness(heartbeat, now, self.freshness.interval_seconds)
        return replace(self, freshness=freshness, checked_at=now)


class GetIngestionStatus:
    """Reads the shared heartbeat and row counts under a deadline, remembering the last good read.

    The freshness rule is applied at the current time to whatever heartbeat is
    known, so a status from cached figures still turns dead once the heartbeat
    is older than the threshold. Concurrent callers share one read in flight, so
    a hung store costs one connection, not one per request. Keep one instance
    per process: it is the cache.
    """

    def __init__(
        self, reader: StatisticsReader, clock: Clock, interval_seconds: float, deadline_seconds: float
    ) -> None:
        self._clock = clock
        self._interval = interval_seconds
        self._deadline = deadline_seconds
        self._reads = SingleFlight(reader.read, abandon_after=max(5.0, 10 * deadline_seconds))
        self._last: StoreStatistics | None = None
        self._last_read_at: datetime | None = None

    async def __call__(self) -> IngestionReport:
        error = None
        try:
            statistics = await self._reads(self._deadline)
        except TimeoutError:
            error = f"no answer within {self._deadline:g}s"
        except Exception as failure:  # any store failure means "not known now", never an error page
            error = describe(failure)
        else:
            self._last, self._last_read_at = statistics, self._clock.now()
        if error is None:
            source = FiguresSource.LIVE
        else:
            source = FiguresSource.LAST_KNOWN if self._last else FiguresSource.NONE
        heartbeat = self._last.heartbeat if self._last else None
        now = self._clock.now()
        freshness = assess_freshness(heartbeat, now, self._interval)
        return IngestionReport(freshness, self._last, source, self._last_read_at, error, now)
