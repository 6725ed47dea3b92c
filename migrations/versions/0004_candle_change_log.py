"""The candle change log: every committed change of a stored candle at its place in one sequence, announced by NOTIFY.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The candle writers of migration 0003 now also append what they wrote to
`candle_changes`, in the same transaction, and NOTIFY `candle_changes` with the
newest sequence number. A transaction advisory lock taken before the first
sequence number and held to the commit makes the order of numbers the order of
commits, so a reader that has seen number N has seen every change before it.
When the ingestion watermark passes a bucket's end, the candle's final state is
appended once more with `complete` true.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_NAMESPACE = 727_274_002
"""Candle writers' namespace (migration 0003); key 0 is the change log's order lock."""
STORED = (
    ("1m", "1 minute"),
    ("5m", "5 minutes"),
    ("15m", "15 minutes"),
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
)

_APPEND = f"""
    PERFORM pg_advisory_xact_lock({LOCK_NAMESPACE}, 0);
    WITH appended AS (
        INSERT INTO candle_changes (seq, symbol, interval, bucket_start, bucket_end, open, high, low, close,
                                    volume, trade_count, notional, vwap, complete)
        SELECT nextval('candle_change_seq'), symbol, interval, bucket_start, bucket_end, open, high, low, close,
               volume, trade_count, notional, vwap, complete
        FROM ({{rows}}) AS changed
        RETURNING seq
    )
    SELECT max(seq) INTO newest FROM appended;
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('candle_changes', newest::text);
    END IF;
"""


def _function(name: str, rows: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    newest bigint;
    mark timestamptz := (SELECT watermark FROM ingestion_watermark WHERE source = 'synthetic');
BEGIN
    {_APPEND.replace("{rows}", rows)}
    RETURN NULL;
END $$;
"""


_WRITTEN = (
    "SELECT symbol, interval, bucket_start, bucket_end, open, high, low, close, volume, trade_count, notional, "
    "vwap, coalesce(bucket_end <= mark, false) AS complete FROM new_rows ORDER BY symbol, interval, bucket_start"
)
_REMOVED = (
    "SELECT symbol, interval, bucket_start, bucket_end, NULL::numeric AS open, NULL::numeric AS high, "
    "NULL::numeric AS low, NULL::numeric AS close, 0::bigint AS volume, 0::bigint AS trade_count, "
    "0::numeric AS notional, NULL::numeric AS vwap, coalesce(bucket_end <= mark, false) AS complete "
    "FROM old_rows ORDER BY symbol, interval, bucket_start"
)
_STEPS = ", ".join(f"('{name}', interval '{step}')" for name, step in STORED)
# Candles whose bucket end the watermark passed: their final state, once more, complete.
_FINAL = f"""
    SELECT c.symbol, c.interval, c.bucket_start, c.bucket_end, c.open, c.high, c.low, c.close, c.volume,
           c.trade_count, c.notional, c.vwap, true AS complete
    FROM symbols s
    CROSS JOIN (VALUES {_STEPS}) AS level(name, step)
    JOIN candles c ON c.symbol = s.symbol AND c.interval = level.name
     AND c.bucket_start > coalesce(previous, '-infinity') - level.step AND c.bucket_start <= NEW.watermark - level.step
    ORDER BY c.symbol, c.interval, c.bucket_start
"""

FUNCTIONS = (
    _function("log_written_candles", _WRITTEN)
    + _function("log_removed_candles", _REMOVED)
    + f"""
CREATE FUNCTION log_final_candles() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    newest bigint;
    previous timestamptz := CASE WHEN TG_OP = 'UPDATE' THEN OLD.watermark END;
    keep interval;
BEGIN
    IF previous IS NOT NULL AND NEW.watermark <= previous THEN
        RETURN NULL;
    END IF;
    {_APPEND.replace("{rows}", _FINAL)}
    -- Once a minute, changes older than the retention window go; resuming before them means a reset.
    IF previous IS NULL OR date_trunc('minute', previous) <> date_trunc('minute', NEW.watermark) THEN
        SELECT retention INTO keep FROM candle_change_horizon;
        WITH pruned AS (
            DELETE FROM candle_changes WHERE committed_at < now() - keep RETURNING seq
        )
        UPDATE candle_change_horizon SET through = greatest(through, (SELECT max(seq) FROM pruned))
        WHERE EXISTS (SELECT 1 FROM pruned);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER candles_log_insert AFTER INSERT ON candles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION log_written_candles();
CREATE TRIGGER candles_log_update AFTER UPDATE ON candles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION log_written_candles();
CREATE TRIGGER candles_log_delete AFTER DELETE ON candles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION log_removed_candles();
CREATE TRIGGER watermark_log_final AFTER INSERT OR UPDATE ON ingestion_watermark
    FOR EACH ROW EXECUTE FUNCTION log_final_candles();
"""
)

DROP = """
DROP TRIGGER IF EXISTS watermark_log_final ON ingestion_watermark;
DROP TRIGGER IF EXISTS candles_log_delete ON candles;
DROP TRIGGER IF EXISTS candles_log_update ON candles;
DROP TRIGGER IF EXISTS candles_log_insert ON candles;
DROP FUNCTION IF EXISTS log_final_candles();
DROP FUNCTION IF EXISTS log_removed_candles();
DROP FUNCTION IF EXISTS log_written_candles();
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE candle_change_seq")
    op.create_table(
        "candle_changes",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("interval", sa.Text(), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bucket_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", sa.Numeric(18, 2)),
        sa.Column("high", sa.Numeric(18, 2)),
        sa.Column("low", sa.Numeric(18, 2)),
        sa.Column("close", sa.Numeric(18, 2)),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("trade_count", sa.BigInteger(), nullable=False),
        sa.Column("notional", sa.Numeric(), nullable=False),
        sa.Column("vwap", sa.Numeric()),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("seq", name="pk_candle_changes"),
    )
    op.create_index("ix_candle_changes_committed_at", "candle_changes", ["committed_at"])
    op.create_table(
        "candle_change_horizon",
        sa.Column("through", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("retention", sa.Interval(), nullable=False, server_default=sa.text("interval '1 hour'")),
    )
    op.execute("INSERT INTO candle_change_horizon DEFAULT VALUES")
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(DROP)
    op.drop_table("candle_change_horizon")
    op.drop_index("ix_candle_changes_committed_at", "candle_changes")
    op.drop_table("candle_changes")
    op.execute("DROP SEQUENCE candle_change_seq")
