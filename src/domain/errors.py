"""Domain errors: each names what was wrong and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

QUOTED_CHARACTERS = 200
"""At most this many characters of an input are quoted in an error text."""


def quoted(value: object) -> str:
    """The value as an error text quotes it: repr, cut to QUOTED_CHARACTERS of a long string, with its length.

    Error texts go back to whoever sent the input; an 8 KiB value is not echoed whole.
    """
    if isinstance(value, str) and len(value) > QUOTED_CHARACTERS:
        return f"{value[:QUOTED_CHARACTERS]!r}…({len(value)} characters)"
    return repr(value)


class DomainError(Exception):
    """Base class of every rule the domain refuses to break."""


@dataclass(frozen=True, slots=True)
class InvalidValue(DomainError):
    """A value broke an invariant of a domain object."""

    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"invalid {self.field} {quoted(self.value)}: {self.allowed}"


@dataclass(frozen=True, slots=True)
class UnknownSymbol(DomainError):
    """A symbol outside the supported universe was asked for."""

    symbol: str
    allowed: tuple[str, ...]

    def __str__(self) -> str:
        return f"unknown symbol {quoted(self.symbol)}: allowed are {', '.join(self.allowed)}"


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
