"""A small inline SVG candlestick chart of `/candles`' CandleOut objects; prices stay Decimal until they become pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain.ranges import rfc3339
from market_data_client.contract import CandleOut

WIDTH = 600
HEIGHT = 120
PAD = 4
PIXEL = Decimal("0.01")
ONE_PIXEL = Decimal(1)


@dataclass(frozen=True, slots=True)
class CandleShape:
    """SVG geometry in pixels, kept Decimal (rounded to 0.01 px) like the prices it comes from."""

    x: Decimal
    wick_top: Decimal
    wick_bottom: Decimal
    body_top: Decimal
    body_height: Decimal
    width: Decimal
    rising: bool
    title: str
    start: str
    """The candle itself, as the API sent it: what the page's script redraws from when the stream updates it."""
    prices: tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Chart:
    symbol: str
    shapes: list[CandleShape]
    last_close: str | None
    low: str | None
    high: str | None
    error: str | None = None


def build_chart(symbol: str, candles: Sequence[CandleOut], window_start: datetime, slots: int = 60) -> Chart:
    """One slot per minute of the window, prices scaled to the window's range.

    A candle sits in the slot of its bucket start, so gaps show as gaps; no candle
    becomes a reason shown in place of the chart.
    """
    if not candles:
        return Chart(symbol, [], None, None, None, "no candles in the last hour")
    low, high = min(c.low for c in candles), max(c.high for c in candles)
    scale = _Scale(low, high, slots)
    shapes = [_shape(candle, scale, _slot(candle.bucket_start, window_start, slots)) for candle in candles]
    return Chart(symbol, shapes, str(candles[-1].close), str(low), str(high))


@dataclass(frozen=True, slots=True)
class _Scale:
    """Prices to pixels: the window's low at the bottom, its high at the top (Decimal until the end)."""

    low: Decimal
    high: Decimal
    slots: int

    @property
    def step(self) -> Decimal:
        return Decimal(WIDTH) / self.slots

    def y(self, price: Decimal) -> Decimal:
        span = (self.high - self.low) or Decimal(1)
        return _px(PAD + (self.high - price) / span * (HEIGHT - 2 * PAD))


def _px(value: Decimal) -> Decimal:
    return value.quantize(PIXEL)


def _shape(candle: CandleOut, scale: _Scale, slot: int) -> CandleShape:
    open_, high, low, close = candle.open, candle.high, candle.low, candle.close
    top, bottom = scale.y(max(open_, close)), scale.y(min(open_, close))
    # The start exactly as the API encodes it (RFC 3339, Z): the page's script keys the stream's candles by it.
    label = rfc3339(candle.bucket_start)
    return CandleShape(
        x=_px(scale.step * slot + scale.step / 2),
        wick_top=scale.y(high),
        wick_bottom=scale.y(low),
        body_top=top,
        body_height=max(bottom - top, ONE_PIXEL),
        width=_px(max(scale.step * Decimal("0.7"), ONE_PIXEL)),
        rising=close >= open_,
        title=f"{label} O {open_} H {high} L {low} C {close}",
        start=label,
        prices=(str(open_), str(high), str(low), str(close)),
    )


def _slot(start: datetime, window_start: datetime, slots: int) -> int:
    return min(max(int((start - window_start) / timedelta(minutes=1)), 0), slots - 1)
