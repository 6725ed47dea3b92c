"""Query parameters in, domain values out: times, windows and cursors, each error naming its parameter."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

from domain.errors import InvalidValue
from domain.ranges import EARLIEST, LATEST, TimeRange, from_micros, to_micros
from domain.trades import TradeKey

TIME_FORMAT = (
    "an RFC 3339 time with an offset, such as 2026-11-29T12:00:00Z or 2026-11-29T13:00:00+01:00, "
    "or Unix epoch milliseconds such as 1764417600000"
)
_EPOCH_MS = re.compile(r"-?[0-9]{1,20}")
_MAX_MS = to_micros(LATEST) // 1000


def parse_instant(name: str, raw: str) -> datetime:
    """An aware UTC datetime from RFC 3339 with offset, or epoch milliseconds; naive times are refused."""
    text = raw.strip()
    if _EPOCH_MS.fullmatch(text):
        millis = int(text)
        if not 0 <= millis <= _MAX_MS:
            raise InvalidValue(name, raw, f"epoch milliseconds from 0 to {_MAX_MS} ({EARLIEST:%Y} to {LATEST:%Y})")
        return EARLIEST + timedelta(milliseconds=millis)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(name, raw, TIME_FORMAT) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue(
            name, raw, f"a time WITH an offset (Z or +hh:mm); naive times are not guessed: {TIME_FORMAT}"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(name, raw, f"a time between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}") from None


def parse_window(start: str, end: str) -> TimeRange:
    return TimeRange(parse_instant("start", start), parse_instant("end", end))


def encode_cursor(key: TradeKey) -> str:
    """An opaque token for the position just after the trade with this (timestamp, id)."""
    ts, trade_id = key
    return base64.urlsafe_b64encode(f"{to_micros(ts)}:{trade_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> TradeKey:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        micros, trade_id = (int(part) for part in text.split(":"))
        if not (0 <= micros <= to_micros(LATEST) and 0 <= trade_id < 2**63):
            raise ValueError(text)
        return (from_micros(micros), trade_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidValue("cursor", raw, "the next_cursor of a previous page, unchanged") from None
