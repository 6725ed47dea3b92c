"""Initial schema: symbols, day-partitioned trades, candles, heartbeat, exact row counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICE = sa.Numeric(18, 2)
TZ = sa.DateTime(timezone=True)
SYMBOLS = ("AAPL", "GOOGL", "MSFT", "TSLA", "AMZN")

# Moves any rows the default partition caught for that day into the new
# partition, so an insert never fails for want of a partition and nothing is lost.
ENSURE_PARTITION = """
CREATE FUNCTION ensure_trade_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    part text := format('trades_p%s', to_char(day, 'YYYYMMDD'));
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ensure_trade_partition'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE trades INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format(
        'WITH moved AS (DELETE FROM trades_default WHERE ts >= $1 AND ts < $2 RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE trades ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
END $$;

CREATE FUNCTION ensure_trade_partitions(lo timestamptz, hi timestamptz) RETURNS void
LANGUAGE sql AS $$
    SELECT ensure_trade_partition(d::date)
    FROM generate_series((lo AT TIME ZONE 'UTC')::date, (hi AT TIME ZONE 'UTC')::date, interval '1 day') AS d;
$$;
"""

# Statement-level triggers with transition tables: one counter update per
# statement (COPY included), sharded by backend to avoid a hot row.
COUNTERS = """
CREATE FUNCTION count_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    delta bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO delta FROM new_rows;
    ELSE
        SELECT -count(*) INTO delta FROM old_rows;
    END IF;
    IF delta <> 0 THEN
        INSERT INTO row_counts AS c (table_name, shard, rows)
        VALUES (TG_TABLE_NAME, pg_backend_pid() % 16, delta)
        ON CONFLICT (table_name, shard) DO UPDATE SET rows = c.rows + excluded.rows;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION reset_row_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


def _counted(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_rows();
CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_rows();
CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION reset_row_count();
"""


def upgrade() -> None:
    op.create_table(
        "symbols",
        sa.Column("symbol", sa.Text(), primary_key=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("symbol", name="pk_symbols"),
    )
    op.bulk_insert(sa.table("symbols", sa.column("symbol")), [{"symbol": s} for s in SYMBOLS])
    op.create_table(
        "trades",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "ts", "id", name="pk_trades"),
        sa.ForeignKeyConstraint(["symbol"], ["symbols.symbol"], name="fk_trades_symbol_symbols"),
        sa.CheckConstraint("price > 0", name=op.f("ck_trades_price_positive")),
        sa.CheckConstraint("volume > 0", name=op.f("ck_trades_volume_positive")),
        postgresql_partition_by="RANGE (ts)",
    )
    op.execute("CREATE TABLE trades_default PARTITION OF trades DEFAULT")
    op.create_table(
        "candles",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("interval", sa.Text(), nullable=False),
        sa.Column("bucket_start", TZ, nullable=False),
        sa.Column("open", PRICE, nullable=False),
        sa.Column("high", PRICE, nullable=False),
        sa.Column("low", PRICE, nullable=False),
        sa.Column("close", PRICE, nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("trade_count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("symbol", "interval", "bucket_start", name="pk_candles"),
        sa.ForeignKeyConstraint(["symbol"], ["symbols.symbol"], name="fk_candles_symbol_symbols"),
        sa.CheckConstraint(
            "low <= least(open, close) AND high >= greatest(open, close)", name=op.f("ck_candles_ohlc_ordered")
        ),
        sa.CheckConstraint("volume > 0 AND trade_count > 0", name=op.f("ck_candles_counts_positive")),
    )
    op.create_table(
        "ingestion_heartbeat",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("beat_at", TZ, nullable=False),
        sa.Column("last_trade_at", TZ),
        sa.Column("batches_committed", sa.BigInteger(), nullable=False),
        sa.Column("trades_ingested", sa.BigInteger(), nullable=False),
        sa.Column("last_batch_trades", sa.Integer(), nullable=False),
        sa.Column("last_batch_duration_ms", sa.Double(), nullable=False),
        sa.Column("failed_attempts", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_at", TZ),
        sa.PrimaryKeyConstraint("source", name="pk_ingestion_heartbeat"),
    )
    op.create_table(
        "row_counts",
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "shard", name="pk_row_counts"),
    )
    op.execute(ENSURE_PARTITION)
    op.execute(COUNTERS)
    op.execute(_counted("trades"))
    op.execute(_counted("candles"))


def downgrade() -> None:
    for table in ("candles", "trades"):
        for event in ("insert", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_count_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS reset_row_count()")
    op.execute("DROP FUNCTION IF EXISTS count_rows()")
    op.execute("DROP FUNCTION IF EXISTS ensure_trade_partitions(timestamptz, timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS ensure_trade_partition(date)")
    op.drop_table("row_counts")
    op.drop_table("ingestion_heartbeat")
    op.drop_table("candles")
    op.drop_table("trades")  # drops every partition with it
    op.drop_table("symbols")
