"""Test oracles: what the candle of any set of trades must hold, read straight off the trades (no merge)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import reduce
from typing import NamedTuple

from domain.candles import EXACT, vwap
from domain.trades import Trade, trade_key


class Expected(NamedTuple):
    """OHLCV of some trades in any span (a local day, say), as the domain must compute it."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trade_count: int
    notional: Decimal

    @property
    def vwap(self) -> Decimal:
        return vwap(self.notional, self.volume)


def expected_ohlcv(trades: Iterable[Trade]) -> Expected | None:
    """The OHLCV of the trades, or `None` when there are none."""
    inside = list(trades)
    if not inside:
        return None
    return Expected(
        open=min(inside, key=trade_key).price,
        high=max(t.price for t in inside),
        low=min(t.price for t in inside),
        close=max(inside, key=trade_key).price,
        volume=sum(t.volume for t in inside),
        trade_count=len(inside),
        notional=reduce(EXACT.add, (EXACT.multiply(t.price, t.volume) for t in inside), Decimal(0)),
    )
