"""Candles become a cache that trade writes invalidate: bucket_end, notional, trade revisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONGEST_INTERVAL = "1 day"
"""The widest candle interval (domain.candles.LONGEST_INTERVAL): bounds the index range to invalidate."""

# Every statement that writes trades bumps the revision of each symbol it touched
# (locking those rows in symbol order, so concurrent writers cannot deadlock) and
# deletes the stored candles whose buckets overlap the written time span. A reader
# that computed candles from an older snapshot sees the revision moved and does not
# store them; one that is storing holds the revision row FOR SHARE, so the writer
# waits and then deletes what was stored. A stored candle is therefore always the
# candle of the trades as they are now.
INVALIDATE = f"""
CREATE FUNCTION invalidate_candle_spans(syms text[], los timestamptz[], his timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF syms IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO trade_revisions AS r (symbol, revision)
    SELECT s, 1 FROM unnest(syms) AS s ORDER BY s
    ON CONFLICT (symbol) DO UPDATE SET revision = r.revision + 1;
    DELETE FROM candles c
    USING unnest(syms, los, his) AS x(symbol, lo, hi)
    WHERE c.symbol = x.symbol AND c.bucket_start <= x.hi AND c.bucket_end > x.lo
      AND c.bucket_start > x.lo - interval '{LONGEST_INTERVAL}';
END $$;

CREATE FUNCTION invalidate_candles_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM invalidate_candle_spans(array_agg(symbol), array_agg(lo), array_agg(hi))
    FROM (SELECT symbol, min(ts) AS lo, max(ts) AS hi FROM new_rows GROUP BY symbol) AS s;
    RETURN NULL;
END $$;

CREATE FUNCTION invalidate_candles_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM invalidate_candle_spans(array_agg(symbol), array_agg(lo), array_agg(hi))
    FROM (SELECT symbol, min(ts) AS lo, max(ts) AS hi FROM old_rows GROUP BY symbol) AS s;
    RETURN NULL;
END $$;

CREATE FUNCTION invalidate_candles_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM invalidate_candle_spans(array_agg(symbol), array_agg(lo), array_agg(hi))
    FROM (
        SELECT symbol, min(ts) AS lo, max(ts) AS hi
        FROM (SELECT symbol, ts FROM old_rows UNION ALL SELECT symbol, ts FROM new_rows) AS changed
        GROUP BY symbol
    ) AS s;
    RETURN NULL;
END $$;

CREATE FUNCTION invalidate_all_candles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM trade_revisions ORDER BY symbol FOR UPDATE;
    UPDATE trade_revisions SET revision = revision + 1;
    DELETE FROM candles;
    RETURN NULL;
END $$;

CREATE TRIGGER trades_invalidate_insert AFTER INSERT ON trades
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invalidate_candles_inserted();
CREATE TRIGGER trades_invalidate_update AFTER UPDATE ON trades
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invalidate_candles_updated();
CREATE TRIGGER trades_invalidate_delete AFTER DELETE ON trades
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invalidate_candles_deleted();
CREATE TRIGGER trades_invalidate_truncate AFTER TRUNCATE ON trades
    FOR EACH STATEMENT EXECUTE FUNCTION invalidate_all_candles();
"""

DROP_INVALIDATE = """
DROP TRIGGER IF EXISTS trades_invalidate_truncate ON trades;
DROP TRIGGER IF EXISTS trades_invalidate_delete ON trades;
DROP TRIGGER IF EXISTS trades_invalidate_update ON trades;
DROP TRIGGER IF EXISTS trades_invalidate_insert ON trades;
DROP FUNCTION IF EXISTS invalidate_all_candles();
DROP FUNCTION IF EXISTS invalidate_candles_updated();
DROP FUNCTION IF EXISTS invalidate_candles_deleted();
DROP FUNCTION IF EXISTS invalidate_candles_inserted();
DROP FUNCTION IF EXISTS invalidate_candle_spans(text[], timestamptz[], timestamptz[]);
"""


def upgrade() -> None:
    # Candles are derived from trades and recomputed on demand: old rows (without
    # the new columns) are simply dropped.
    op.execute("DELETE FROM candles")
    op.add_column("candles", sa.Column("bucket_end", sa.DateTime(timezone=True), nullable=False))
    op.add_column("candles", sa.Column("notional", sa.Numeric(), nullable=False))
    op.create_check_constraint("ck_candles_bucket_ordered", "candles", "bucket_end > bucket_start")
    op.create_table(
        "trade_revisions",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("symbol", name="pk_trade_revisions"),
        sa.ForeignKeyConstraint(["symbol"], ["symbols.symbol"], name="fk_trade_revisions_symbol_symbols"),
    )
    op.execute("INSERT INTO trade_revisions (symbol, revision) SELECT symbol, 0 FROM symbols")
    op.execute(INVALIDATE)


def downgrade() -> None:
    op.execute(DROP_INVALIDATE)
    op.drop_table("trade_revisions")
    op.drop_constraint("ck_candles_bucket_ordered", "candles", type_="check")
    op.drop_column("candles", "notional")
    op.drop_column("candles", "bucket_end")
