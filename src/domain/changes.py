"""Candle changes: each committed change of a stored candle, at its position in the platform's change sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.series import Bar


@dataclass(frozen=True, slots=True)
class CandleChange:
    """A candle as one transaction left it, and whether it is final; `bar` is None when the bucket lost its
    last trade (an operator's fix) and so its candle.

    `seq` orders changes as their transactions committed, the same on every replica.
    """

    seq: int
    symbol: str
    interval: str
    start: datetime
    end: datetime
    bar: Bar | None
    complete: bool


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """Which changes a subscriber wants: some symbols, one interval."""

    symbols: frozenset[str]
    interval: str

    def wants(self, change: CandleChange) -> bool:
        return change.interval == self.interval and change.symbol in self.symbols
