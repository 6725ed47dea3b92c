"""The trade: one execution of a symbol at an exact price and volume."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from domain.errors import InvalidValue

TICK = Decimal("0.01")
SUPPORTED_SYMBOLS: tuple[str, ...] = ("AAPL", "GOOGL", "MSFT", "TSLA", "AMZN")
RawTrade = tuple[str, int, int, int]
"""(symbol, Unix microseconds, price in ticks, volume): the compact form bulk paths use."""

_SYMBOL_PATTERN = re.compile(r"[A-Z][A-Z0-9.]{0,15}")


def check_symbol(symbol: str) -> str:
    """Return the symbol if it is well formed (upper case ticker), else raise."""
    if not isinstance(symbol, str) or not _SYMBOL_PATTERN.fullmatch(symbol):
        raise InvalidValue("symbol", symbol, "an upper-case ticker such as AAPL")
    return symbol


def check_utc(field: str, moment: datetime) -> datetime:
    """Return the moment if it is timezone-aware UTC, else raise: times are never guessed."""
    if not isinstance(moment, datetime) or moment.utcoffset() != timedelta(0):
        raise InvalidValue(field, moment, "a timezone-aware UTC datetime")
    return moment


def check_price(field: str, price: Decimal) -> Decimal:
    """Return the price if it is a finite positive Decimal on the tick, else raise."""
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise InvalidValue(field, price, "a finite positive Decimal")
    if price != price.quantize(TICK):
        raise InvalidValue(field, price, f"a multiple of the tick {TICK}")
    return price


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade as stored; `id` is assigned by storage and breaks timestamp ties."""

    symbol: str
    ts: datetime
    price: Decimal
    volume: int
    id: int | None = None

    def __post_init__(self) -> None:
        check_symbol(self.symbol)
        check_utc("ts", self.ts)
        check_price("price", self.price)
        if isinstance(self.volume, bool) or not isinstance(self.volume, int) or self.volume <= 0:
            raise InvalidValue("volume", self.volume, "a positive integer")

    @property
    def notional(self) -> Decimal:
        """Price times volume, exact."""
        return self.price * self.volume


TradeKey = tuple[datetime, int]
"""(timestamp, trade id): the order that decides open and close, so ties are deterministic."""


class StoredTrade(NamedTuple):
    """A trade read back for serving. The schema checked it when it was written, so building one checks
    nothing again: a page holds up to ten thousand, and a `Trade` validates every field."""

    symbol: str
    ts: datetime
    price: Decimal
    volume: int
    id: int


def trade_key(trade: Trade | StoredTrade) -> TradeKey:
    return (trade.ts, trade.id if trade.id is not None else 0)


def from_raw(raw: RawTrade) -> Trade:
    """The Trade of a compact record (validated like any other)."""
    symbol, ts_us, ticks, volume = raw
    seconds, micros = divmod(ts_us, 1_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    return Trade(symbol, moment, Decimal(ticks) * TICK, volume)
