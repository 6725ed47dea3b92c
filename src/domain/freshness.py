"""Freshness: is ingestion alive, judged from the heartbeat age against a stale threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvalidValue
from domain.heartbeat import Heartbeat
from domain.trades import check_utc

STALE_FACTOR = 3
"""Ingestion is stale after this many intervals without a committed batch."""


class IngestionStatus(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Freshness:
    """What a consumer needs to tell "no trades" from "ingestion is behind"."""

    status: IngestionStatus
    interval_seconds: float
    stale_after_seconds: float
    heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None
    last_trade_at: datetime | None
    seconds_since_last_trade: float | None


def stale_threshold(interval_seconds: float) -> float:
    if not interval_seconds > 0:
        raise InvalidValue("interval_seconds", interval_seconds, "a positive number of seconds")
    return interval_seconds * STALE_FACTOR


def assess_freshness(heartbeat: Heartbeat | None, now: datetime, interval_seconds: float) -> Freshness:
    """Alive while the heartbeat age is at most the threshold (the boundary is alive);
    dead past it, and dead when there never was a heartbeat.

    Ages are clamped at zero: a heartbeat written by a replica whose clock runs a
    little ahead is fresh, not from the future.
    """
    check_utc("now", now)
    threshold = stale_threshold(interval_seconds)
    if heartbeat is None:
        return Freshness(IngestionStatus.DEAD, interval_seconds, threshold, None, None, None, None)
    age = _age(heartbeat.beat_at, now)
    since_trade = _age(heartbeat.last_trade_at, now) if heartbeat.last_trade_at else None
    # Compared as timedeltas (exact microseconds): in floats, 12.459 * 3 is
    # 37.376999..., which would call a heartbeat exactly at the threshold dead.
    alive = now - heartbeat.beat_at <= timedelta(seconds=interval_seconds) * STALE_FACTOR
    status = IngestionStatus.ALIVE if alive else IngestionStatus.DEAD
    return Freshness(status, interval_seconds, threshold, heartbeat.beat_at, age, heartbeat.last_trade_at, since_trade)


def _age(then: datetime, now: datetime) -> float:
    return max(0.0, (now - then).total_seconds())
