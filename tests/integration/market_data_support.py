"""Helpers for the market data tests: write known trades, read stored candles, straight from PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import psycopg

from adapters.postgres.url import libpq_url
from domain.candles import Candle, Interval, candles_of
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
            "SELECT bucket_start, open, high, low, close, volume, trade_count, notional, open_ts, open_id,"
            " close_ts, close_id FROM candles WHERE symbol = %s AND interval = %s ORDER BY bucket_start",
            (symbol, interval.name),
        ).fetchall()
    return [Candle(symbol, interval, *row[:8], (row[8], row[9]), (row[10], row[11])) for row in rows]


def stored_updated_at(url: str, symbol: str, interval: Interval) -> dict[datetime, datetime]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT bucket_start, updated_at FROM candles WHERE symbol = %s AND interval = %s", (symbol, interval.name)
        ).fetchall()
    return dict(rows)


def set_watermark(url: str, watermark: datetime) -> None:
    """As if ingestion had delivered and committed everything up to `watermark`."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO ingestion_watermark (source, watermark) VALUES ('synthetic', %s) "
            "ON CONFLICT (source) DO UPDATE SET watermark = excluded.watermark",
            (watermark,),
        )


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
        "filled": False,
    }


STORED = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")


def candle_rows(url: str) -> set[tuple[object, ...]]:
    """Every stored candle, with the trade keys of its open and close and its stored VWAP."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT symbol, interval, bucket_start, bucket_end, open, high, low, close, volume, trade_count, notional,"
            " vwap, open_ts, open_id, close_ts, close_id FROM candles"
        ).fetchall()
    return {tuple(row) for row in rows}


def true_candle_rows(url: str) -> set[tuple[object, ...]]:
    """What candles must hold: the domain's candle of the trades now in each non-empty bucket."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT symbol, ts, price, volume, id FROM trades").fetchall()
    trades = [Trade(symbol, ts, price, volume, trade_id) for symbol, ts, price, volume, trade_id in rows]
    truth = set()
    for name in STORED:
        for c in candles_of(trades, Interval.parse(name)):
            fields = (c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.notional, c.vwap)
            truth.add((c.symbol, name, c.start, c.end, *fields, *c.first, *c.last))
    return truth


def assert_candles_true(url: str) -> None:
    """Every stored candle equals the candle of the trades in its bucket; no bucket lacks one or has one too many."""
    stored, truth = candle_rows(url), true_candle_rows(url)
    assert stored - truth == set(), "stored candles that are not the candle of their trades"
    assert truth - stored == set(), "candles of trades that are not stored"
