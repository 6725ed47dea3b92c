"""A small inline SVG candlestick chart of the `/candles` JSON; prices stay Decimal until they become pixels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

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


def candles_of(payload: Any) -> list[dict[str, Any]]:
    """The candle objects of a `/candles` answer, whether it is a list or wraps one."""
    if isinstance(payload, dict):
        payload = next((payload[k] for k in ("candles", "items", "data") if isinstance(payload.get(k), list)), [])
    return [c for c in payload if isinstance(c, dict)] if isinstance(payload, list) else []


def build_chart(symbol: str, payload: Any, window_start: datetime, slots: int = 60) -> Chart:
    """One slot per minute of the window, prices scaled to the window's range.

    A candle sits in the slot of its bucket start, so gaps show as gaps; an
    unreadable answer becomes a reason shown in place of the chart, not a crash.
    """
    try:
        rows = [_ohlc(c) for c in candles_of(payload)]
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        return Chart(symbol, [], None, None, None, f"unreadable candles ({type(error).__name__})")
    if not rows:
        return Chart(symbol, [], None, None, None, "no candles in the last hour")
    low, high = min(r[3] for r in rows), max(r[2] for r in rows)
    scale = _Scale(low, high, slots)
    shapes = [
        _shape(row, scale, _slot(row[0], window_start, slots, fallback=slots - len(rows) + position))
        for position, row in enumerate(rows)
    ]
    return Chart(symbol, shapes, str(rows[-1][4]), str(low), str(high))


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


def _shape(row: tuple[str, Decimal, Decimal, Decimal, Decimal], scale: _Scale, slot: int) -> CandleShape:
    label, open_, high, low, close = row
    top, bottom = scale.y(max(open_, close)), scale.y(min(open_, close))
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


def _slot(label: str, window_start: datetime, slots: int, fallback: int) -> int:
    try:
        start = datetime.fromisoformat(label.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return min(max(int((start - window_start) / timedelta(minutes=1)), 0), slots - 1)


def _ohlc(candle: dict[str, Any]) -> tuple[str, Decimal, Decimal, Decimal, Decimal]:
    label = next((str(candle[k]) for k in ("start", "bucket_start", "ts", "time") if k in candle), "")
    open_, high, low, close = (Decimal(str(candle[k])) for k in ("open", "high", "low", "close"))
    return label, open_, high, low, close
