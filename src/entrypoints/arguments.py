"""Command-line argument types shared by the `mdp` commands: each refusal is one line naming the value."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import UTC, datetime


def positive(unit: str = "") -> Callable[[str], float]:
    """A finite positive number (of `unit`, as the message says it)."""
    what = f"number of {unit}" if unit else "number"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive {what}")
        return value

    return parse


def utc_time(text: str) -> datetime:
    """An ISO 8601 time WITH an offset, as UTC; naive times are refused, never guessed."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset; add Z or +00:00")
    return moment.astimezone(UTC)


def http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text
