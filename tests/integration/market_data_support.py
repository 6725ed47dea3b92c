"""Helpers for the market data tests: write known trades, read stored candles, straight from PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import psycopg

from adapters.postgres.url import libpq_url
from domain.candles import Candle, Interval
from domain.trades import Trade

Row = tuple[datetime, str, int]
"""(timestamp, price, volume) of one trade."""


def insert_trades(url: str, symbol: str, rows: Sequence[Row]) -> list[Trade]:
    """Insert in the given order (ids follow it, so they break timestamp ties in that order)."""
    if not rows:
        return []
    stored = []
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SELECT ensure_trade_partitions(%s, %s)", (min(r[0] for r in rows), max(r[0] for r in rows)))
        for ts, price, volume in rows:
            cursor = conn.execute(
                "INSERT INTO trades (symbol, ts, price, volume) VALUES (%s, %s, %s, %s) RETURNING id",
                (symbol, ts, Decimal(price), volume),
            )
            trade_id = cursor.fetchone()[0]  # type: ignore[index]
            stored.append(Trade(symbol, ts, Decimal(price), volume, trade_id))
    return stored


def all_trades(url: str, symbol: str) -> list[Trade]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT ts, price, volume, id FROM trades WHERE symbol = %s", (symbol,)).fetchall()
    return [Trade(symbol, ts, price, volume, trade_id) for ts, price, volume, trade_id in rows]


def stored_candles(url: str, symbol: str, interval: Interval) -> list[Candle]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT bucket_start, open, high, low, close, volume, trade_count, notional FROM candles"
            " WHERE symbol = %s AND interval = %s ORDER BY bucket_start",
            (symbol, interval.name),
        ).fetchall()
    return [Candle(symbol, interval, *row) for row in rows]


def stored_updated_at(url: str, symbol: str, interval: Interval) -> dict[datetime, datetime]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT bucket_start, updated_at FROM candles WHERE symbol = %s AND interval = %s", (symbol, interval.name)
        ).fetchall()
    return dict(rows)


def as_json(candle: Candle, complete: bool = True) -> dict[str, object]:
    """The candle exactly as /candles must render it."""

    def z(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    return {
        "bucket_start": z(candle.start),
        "bucket_end": z(candle.end),
        "open": str(candle.open),
        "high": str(candle.high),
        "low": str(candle.low),
        "close": str(candle.close),
        "volume": candle.volume,
        "trade_count": candle.trade_count,
        "vwap": str(candle.vwap),
        "complete": complete,
    }
