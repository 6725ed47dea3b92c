"""Domain errors: each names what was wrong and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class DomainError(Exception):
    """Base class of every rule the domain refuses to break."""


@dataclass(frozen=True, slots=True)
class InvalidValue(DomainError):
    """A value broke an invariant of a domain object."""

    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"invalid {self.field} {self.value!r}: {self.allowed}"


@dataclass(frozen=True, slots=True)
class UnknownSymbol(DomainError):
    """A symbol outside the supported universe was asked for."""

    symbol: str
    allowed: tuple[str, ...]

    def __str__(self) -> str:
        return f"unknown symbol {self.symbol!r}: allowed are {', '.join(self.allowed)}"


@dataclass(frozen=True, slots=True)
class TooManyCandles(DomainError):
    """A candle request would return more candles than one response may hold."""

    count: int
    maximum: int

    def __str__(self) -> str:
        return (
            f"the request would return {self.count:,} candles; at most {self.maximum:,} are allowed per request "
            "(narrow the range or choose a larger interval)"
        )


@dataclass(frozen=True, slots=True)
class MismatchedCandles(DomainError):
    """Candles of different symbols or buckets were asked to merge: each is (symbol, interval, bucket start)."""

    left: tuple[str, str, datetime]
    right: tuple[str, str, datetime]

    def __str__(self) -> str:
        return f"only candles of one symbol and bucket merge: {self.left!r} and {self.right!r}"
