"""Time ranges a consumer may ask about: half-open, aware UTC, within supported bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import InvalidValue
from domain.trades import check_utc

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No trade is older than the Unix epoch, where every bucket is aligned."""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Far enough for any real request, near enough that a bucket end never overflows."""
_BOUNDS = "a time between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z"


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float on the way)."""
    delta = moment - EARLIEST
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return EARLIEST + timedelta(microseconds=micros)


def rfc3339(moment: datetime) -> str:
    """The moment as RFC 3339 in UTC with Z, as every response writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """`[start, end)` in UTC; `end` is after `start` and both lie within the supported bounds."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for field in ("start", "end"):
            moment = check_utc(field, getattr(self, field))
            if not EARLIEST <= moment <= LATEST:
                raise InvalidValue(field, rfc3339(moment), _BOUNDS)
        if self.end <= self.start:
            raise InvalidValue("end", rfc3339(self.end), f"a time after start ({rfc3339(self.start)})")
