"""Candles written with the trades: exact merge keys, stored VWAP, maintenance triggers, the watermark.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Every statement that writes trades keeps every stored candle equal to the
candle of the trades now in its bucket, inside the statement's transaction:
- INSERT (an ingestion batch, a backfill COPY, a late trade by SQL) folds the
  new trades into the stored candles with the candle monoid's merge: open and
  close are the prices of the least and greatest (ts, id), so out-of-order and
  late trades merge exactly;
- UPDATE and DELETE recompute the touched 1m buckets from the trades, then
  each wider bucket holding them from the interval below it;
- TRUNCATE empties candles.
Writers of one symbol's candles take a transaction advisory lock on it, in
symbol order, so a recompute never overwrites a concurrent merge and no two
writers deadlock. Readers take no lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("mdp.migrations")

EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
# Stored intervals, each rolled up from the one before it (1s is computed on read).
LEVELS = (
    ("5m", "5 minutes", "1m"),
    ("15m", "15 minutes", "5m"),
    ("30m", "30 minutes", "15m"),
    ("1h", "1 hour", "30m"),
    ("4h", "4 hours", "1h"),
    ("1d", "1 day", "4h"),
)
LOCK_NAMESPACE = 727_274_002
"""Advisory lock namespace of candle writers (the migration lock is 727_274_001)."""

COLUMNS = (
    'symbol, "interval", bucket_start, bucket_end, open, high, low, close, volume, trade_count, notional, '
    "open_ts, open_id, close_ts, close_id, updated_at"
)
# Open and close by (ts, id) without sorting: the least and greatest of
# [epoch microseconds, id, price] (exact numerics, compared element by element).
_KEY = "extract(epoch FROM {ts}) * 1000000, {id}"
# The trades of one group summarised: open and close by (ts, id), exact notional.
TRADE_SUMMARY = f"""
    min(ts) AS open_ts, max(ts) AS close_ts,
    min(ARRAY[{_KEY.format(ts="ts", id="id")}, price]) AS first_key,
    max(ARRAY[{_KEY.format(ts="ts", id="id")}, price]) AS last_key,
    max(price) AS high, min(price) AS low,
    sum(volume)::bigint AS volume, count(*) AS trade_count, sum(price * volume) AS notional
"""
# Candles of one group merged: the monoid of domain.candles.merge, in SQL.
CANDLE_MERGE = f"""
    min(open_ts) AS open_ts, max(close_ts) AS close_ts,
    min(ARRAY[{_KEY.format(ts="open_ts", id="open_id")}, open]) AS first_key,
    max(ARRAY[{_KEY.format(ts="close_ts", id="close_id")}, close]) AS last_key,
    max(high) AS high, min(low) AS low,
    sum(volume)::bigint AS volume, sum(trade_count)::bigint AS trade_count, sum(notional) AS notional
"""
# A summary as candle columns.
SUMMARY_FIELDS = (
    "first_key[3] AS open, high, low, last_key[3] AS close, volume, trade_count, notional, "
    "open_ts, first_key[2]::bigint AS open_id, close_ts, last_key[2]::bigint AS close_id"
)
FIELDS = "open, high, low, close, volume, trade_count, notional, open_ts, open_id, close_ts, close_id"
WIDER = ", ".join(f"('{name}', interval '{step}')" for name, step, _ in LEVELS)


# One pass: 1m partial candles of the new trades, every wider interval merged
# from those partials, then merged into the stored candles, in key order.
FOLD = f"""
CREATE FUNCTION fold_inserted_trades() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_NAMESPACE}, hashtext(symbol))
    FROM (SELECT DISTINCT symbol FROM new_rows ORDER BY 1) AS writing;
    WITH p1m AS (
        SELECT symbol, date_bin('1 minute', ts, {EPOCH}) AS bucket_start, {TRADE_SUMMARY}
        FROM new_rows GROUP BY 1, 2
    ),
    m1 AS (SELECT symbol, bucket_start, {SUMMARY_FIELDS} FROM p1m),
    wider AS (
        SELECT name, step, symbol, date_bin(step, bucket_start, {EPOCH}) AS bucket_start, {CANDLE_MERGE}
        FROM m1 CROSS JOIN (VALUES {WIDER}) AS level(name, step)
        GROUP BY 1, 2, 3, 4
    )
    INSERT INTO candles AS c ({COLUMNS})
    SELECT symbol, name, bucket_start, bucket_start + step, {FIELDS}, now()
    FROM (
        SELECT '1m' AS name, interval '1 minute' AS step, symbol, bucket_start, {FIELDS} FROM m1
        UNION ALL
        SELECT name, step, symbol, bucket_start, {SUMMARY_FIELDS} FROM wider
    ) AS partial
    ORDER BY symbol, name, bucket_start
    ON CONFLICT (symbol, "interval", bucket_start) DO UPDATE SET
        open = CASE WHEN (excluded.open_ts, excluded.open_id) < (c.open_ts, c.open_id) THEN excluded.open ELSE c.open END,
        open_id = CASE WHEN (excluded.open_ts, excluded.open_id) < (c.open_ts, c.open_id) THEN excluded.open_id ELSE c.open_id END,
        open_ts = least(c.open_ts, excluded.open_ts),
        close = CASE WHEN (excluded.close_ts, excluded.close_id) > (c.close_ts, c.close_id) THEN excluded.close ELSE c.close END,
        close_id = CASE WHEN (excluded.close_ts, excluded.close_id) > (c.close_ts, c.close_id) THEN excluded.close_id ELSE c.close_id END,
        close_ts = greatest(c.close_ts, excluded.close_ts),
        high = greatest(c.high, excluded.high),
        low = least(c.low, excluded.low),
        volume = c.volume + excluded.volume,
        trade_count = c.trade_count + excluded.trade_count,
        notional = c.notional + excluded.notional,
        updated_at = excluded.updated_at;
    RETURN NULL;
END $$;
"""

# Upsert the fresh candles of the target buckets (only rows that differ are
# written) and delete the stored ones of target buckets left empty; returns how
# many stored candles changed.
_REPLACE = f"""
    upserted AS (
        INSERT INTO candles AS c ({COLUMNS})
        SELECT symbol, name, bucket_start, bucket_start + step, {FIELDS}, now() FROM fresh
        ORDER BY symbol, bucket_start
        ON CONFLICT (symbol, "interval", bucket_start) DO UPDATE SET
            open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
            volume = excluded.volume, trade_count = excluded.trade_count, notional = excluded.notional,
            open_ts = excluded.open_ts, open_id = excluded.open_id,
            close_ts = excluded.close_ts, close_id = excluded.close_id, updated_at = excluded.updated_at
        WHERE ({", ".join("c." + f.strip() for f in FIELDS.split(","))})
            IS DISTINCT FROM ({", ".join("excluded." + f.strip() for f in FIELDS.split(","))})
        RETURNING 1
    ),
    removed AS (
        DELETE FROM candles c USING target t
        WHERE c.symbol = t.symbol AND c."interval" = name AND c.bucket_start = t.bucket_start
          AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.symbol = t.symbol AND f.bucket_start = t.bucket_start)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed)
"""


def _refresh_level(name: str, step: str, parent: str) -> str:
    """Recompute the target buckets of one wider level from the stored level below it."""
    return f"""
    name := '{name}';
    step := interval '{step}';
    WITH target AS (
        SELECT DISTINCT s AS symbol, date_bin(step, m, {EPOCH}) AS bucket_start
        FROM unnest(syms, minutes) AS x(s, m)
    ),
    fresh AS (
        SELECT t.symbol, t.bucket_start, {SUMMARY_FIELDS}
        FROM target t CROSS JOIN LATERAL (
            SELECT {CANDLE_MERGE} FROM candles p
            WHERE p.symbol = t.symbol AND p."interval" = '{parent}'
              AND p.bucket_start >= t.bucket_start AND p.bucket_start < t.bucket_start + step
        ) AS a
        WHERE a.trade_count > 0
    ),
    {_REPLACE} INTO n;
    changed := changed + n;
"""


REFRESH = f"""
CREATE FUNCTION refresh_candles(syms text[], minutes timestamptz[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    name text := '1m';
    step interval := interval '1 minute';
    changed bigint := 0;
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_NAMESPACE}, hashtext(s))
    FROM (SELECT DISTINCT s FROM unnest(syms) AS s ORDER BY 1) AS writing;
    WITH target AS (
        SELECT DISTINCT s AS symbol, date_bin('1 minute', m, {EPOCH}) AS bucket_start
        FROM unnest(syms, minutes) AS x(s, m)
    ),
    fresh AS (
        SELECT t.symbol, t.bucket_start, {SUMMARY_FIELDS}
        FROM target t CROSS JOIN LATERAL (
            SELECT {TRADE_SUMMARY} FROM trades
            WHERE trades.symbol = t.symbol AND ts >= t.bucket_start AND ts < t.bucket_start + interval '1 minute'
        ) AS a
        WHERE a.trade_count > 0
    ),
    {_REPLACE} INTO n;
    changed := changed + n;
    {"".join(_refresh_level(*level) for level in LEVELS)}
    RETURN changed;
END $$;

CREATE FUNCTION refresh_candle_span(sym text, lo timestamptz, hi timestamptz) RETURNS bigint
LANGUAGE sql AS $$
    SELECT refresh_candles(array_agg(sym), array_agg(m))
    FROM generate_series(date_bin('1 minute', lo, {EPOCH}), hi - interval '1 microsecond', interval '1 minute') AS m;
$$;

CREATE FUNCTION refresh_candles_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_candles(array_agg(symbol), array_agg(m))
    FROM (SELECT DISTINCT symbol, date_bin('1 minute', ts, {EPOCH}) AS m FROM old_rows) AS touched;
    RETURN NULL;
END $$;

CREATE FUNCTION refresh_candles_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_candles(array_agg(symbol), array_agg(m))
    FROM (
        SELECT symbol, date_bin('1 minute', ts, {EPOCH}) AS m FROM old_rows
        UNION
        SELECT symbol, date_bin('1 minute', ts, {EPOCH}) FROM new_rows
    ) AS touched;
    RETURN NULL;
END $$;

CREATE FUNCTION clear_candles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM candles;
    RETURN NULL;
END $$;

CREATE TRIGGER trades_candles_insert AFTER INSERT ON trades
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fold_inserted_trades();
CREATE TRIGGER trades_candles_update AFTER UPDATE ON trades
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION refresh_candles_updated();
CREATE TRIGGER trades_candles_delete AFTER DELETE ON trades
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refresh_candles_deleted();
CREATE TRIGGER trades_candles_truncate AFTER TRUNCATE ON trades
    FOR EACH STATEMENT EXECUTE FUNCTION clear_candles();
"""

DROP = """
DROP TRIGGER IF EXISTS trades_candles_truncate ON trades;
DROP TRIGGER IF EXISTS trades_candles_delete ON trades;
DROP TRIGGER IF EXISTS trades_candles_update ON trades;
DROP TRIGGER IF EXISTS trades_candles_insert ON trades;
DROP FUNCTION IF EXISTS clear_candles();
DROP FUNCTION IF EXISTS refresh_candles_updated();
DROP FUNCTION IF EXISTS refresh_candles_deleted();
DROP FUNCTION IF EXISTS refresh_candle_span(text, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS refresh_candles(text[], timestamptz[]);
DROP FUNCTION IF EXISTS fold_inserted_trades();
"""

# Exact VWAP half up at 6 places in integer arithmetic, as domain.candles.vwap:
# notional has at most 2 decimals, so notional * 2e6 is a whole number.
VWAP = "div(notional * 2000000 + volume, 2 * volume) * 0.000001"


def upgrade() -> None:
    op.execute(_previous().DROP_INVALIDATE)
    op.drop_table("trade_revisions")
    op.execute("DELETE FROM candles")
    for column, type_ in (("open_ts", sa.DateTime(timezone=True)), ("open_id", sa.BigInteger())):
        op.add_column("candles", sa.Column(column, type_, nullable=False))
    for column, type_ in (("close_ts", sa.DateTime(timezone=True)), ("close_id", sa.BigInteger())):
        op.add_column("candles", sa.Column(column, type_, nullable=False))
    op.add_column("candles", sa.Column("vwap", sa.Numeric(), sa.Computed(VWAP, persisted=True), nullable=False))
    op.create_table(
        "ingestion_watermark",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_ingestion_watermark"),
    )
    # Until the first batch after this upgrade, what was ingested is final up to the last heartbeat's trade.
    op.execute(
        "INSERT INTO ingestion_watermark (source, watermark) "
        "SELECT source, last_trade_at FROM ingestion_heartbeat WHERE last_trade_at IS NOT NULL"
    )
    op.execute(FOLD)
    op.execute(REFRESH)
    _build_existing()


def _build_existing() -> None:
    """Candles of the trades already stored, a day of one symbol at a time, logging progress."""
    bind = op.get_bind()
    spans = bind.execute(
        sa.text(
            "SELECT s.symbol, date_bin('1 day', f.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS lo, l.ts AS hi "
            "FROM symbols s "
            "CROSS JOIN LATERAL (SELECT ts FROM trades WHERE symbol = s.symbol ORDER BY ts LIMIT 1) f "
            "CROSS JOIN LATERAL (SELECT ts FROM trades WHERE symbol = s.symbol ORDER BY ts DESC LIMIT 1) l "
            "ORDER BY s.symbol"
        )
    ).all()
    for symbol, lo, hi in spans:
        began, day, built = time.monotonic(), lo, 0
        while day <= hi:
            built += bind.execute(
                sa.text("SELECT refresh_candle_span(:s, :lo, :lo + interval '1 day')"), {"s": symbol, "lo": day}
            ).scalar_one()
            day = bind.execute(sa.text("SELECT CAST(:d AS timestamptz) + interval '1 day'"), {"d": day}).scalar_one()
        log.info("built %s candles of %s (%s .. %s) in %.1fs", built, symbol, lo, hi, time.monotonic() - began)


def downgrade() -> None:
    op.execute(DROP)
    op.drop_table("ingestion_watermark")
    op.execute("DELETE FROM candles")
    for column in ("vwap", "close_id", "close_ts", "open_id", "open_ts"):
        op.drop_column("candles", column)
    op.create_table(
        "trade_revisions",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("symbol", name="pk_trade_revisions"),
        sa.ForeignKeyConstraint(["symbol"], ["symbols.symbol"], name="fk_trade_revisions_symbol_symbols"),
    )
    op.execute("INSERT INTO trade_revisions (symbol, revision) SELECT symbol, 0 FROM symbols")
    op.execute(_previous().INVALIDATE)


def _previous() -> Any:
    """Revision 0002's trigger SQL, which this revision replaces and its downgrade restores."""
    path = Path(__file__).with_name("0002_candle_cache.py")
    spec = spec_from_file_location("mdp_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
