"""Daily buckets that start at local midnight in an IANA time zone: 23 or 25 hours long on DST days."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.candles import MAX_CANDLES, Interval
from domain.errors import InvalidValue, TooManyCandles
from domain.ranges import TimeRange, to_micros
from domain.series import Bounds

DAY = Interval.parse("1d")
ROLLUP_BASES = tuple(Interval.parse(name) for name in ("4h", "1h", "30m", "15m", "5m", "1m"))
"""Stored intervals a local day may be rolled up from, widest first."""


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; anything else raises, naming it."""
    allowed = "an IANA time zone name such as America/New_York, Europe/London or Asia/Kolkata"
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise InvalidValue("tz", name, allowed)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidValue("tz", name, allowed) from None


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, in UTC.

    Where midnight itself is skipped by a DST change, the day starts at the
    transition (the wall time is read with the offset in force before it).
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LocalDays:
    """The local days a request selects: those whose start lies in `[local midnight of start, end)`."""

    zone: ZoneInfo
    buckets: tuple[Bounds, ...]

    @classmethod
    def select(cls, window: TimeRange, zone: ZoneInfo, maximum: int = MAX_CANDLES) -> LocalDays:
        first = window.start.astimezone(zone).date()
        last = (window.end - timedelta(microseconds=1)).astimezone(zone).date()
        count = (last - first).days + 1
        if count > maximum:
            raise TooManyCandles(count, maximum)
        starts = [local_midnight(first + timedelta(days=i), zone) for i in range(count + 1)]
        return cls(zone, tuple(itertools.pairwise(starts)))

    @property
    def first(self) -> datetime:
        return self.buckets[0][0]

    @property
    def end(self) -> datetime:
        return self.buckets[-1][1]

    def rollup_base(self) -> Interval:
        """The widest stored interval whose buckets each fall inside one local day of this selection."""
        for base in ROLLUP_BASES:
            if all(to_micros(start) % base.micros == 0 for start, _ in self.buckets) and (
                to_micros(self.end) % base.micros == 0
            ):
                return base
        raise InvalidValue(
            "tz",
            str(self.zone),
            "a zone whose local midnight falls on a whole minute of UTC in the requested range "
            "(true of every zone since 1972)",
        )
