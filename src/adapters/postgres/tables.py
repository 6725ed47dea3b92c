"""The schema as SQLAlchemy Core tables; alembic migrations are the source of truth and must agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Integer,
    Interval,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)

PRICE = Numeric(18, 2)
VWAP = "div(notional * 2000000 + volume, 2 * volume) * 0.000001"

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

symbols = Table(
    "symbols",
    metadata,
    Column("symbol", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Partitioned by day on ts (see migrations); the primary key leads with
# (symbol, ts) so it is also the index for "one symbol, a time range, in order".
trades = Table(
    "trades",
    metadata,
    Column("id", BigInteger, Identity(), nullable=False),
    Column("symbol", Text, ForeignKey("symbols.symbol"), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("price", PRICE, nullable=False),
    Column("volume", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "ts", "id"),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("volume > 0", name="volume_positive"),
    postgresql_partition_by="RANGE (ts)",
)

candles = Table(
    "candles",
    metadata,
    Column("symbol", Text, ForeignKey("symbols.symbol"), nullable=False),
    Column("interval", Text, nullable=False),
    Column("bucket_start", DateTime(timezone=True), nullable=False),
    Column("open", PRICE, nullable=False),
    Column("high", PRICE, nullable=False),
    Column("low", PRICE, nullable=False),
    Column("close", PRICE, nullable=False),
    Column("volume", BigInteger, nullable=False),
    Column("trade_count", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("bucket_end", DateTime(timezone=True), nullable=False),
    # sum(price * volume), unbounded NUMERIC: exact, so candles merge and the VWAP derives from it.
    Column("notional", Numeric(), nullable=False),
    # (ts, id) of the first and last trade: what an exact merge of out-of-order trades needs.
    Column("open_ts", DateTime(timezone=True), nullable=False),
    Column("open_id", BigInteger, nullable=False),
    Column("close_ts", DateTime(timezone=True), nullable=False),
    Column("close_id", BigInteger, nullable=False),
    # Exact, half up at 6 places, in integer arithmetic (see migration 0003).
    Column("vwap", Numeric(), Computed(VWAP, persisted=True), nullable=False),
    PrimaryKeyConstraint("symbol", "interval", "bucket_start"),
    CheckConstraint("low <= least(open, close) AND high >= greatest(open, close)", name="ohlc_ordered"),
    CheckConstraint("volume > 0 AND trade_count > 0", name="counts_positive"),
    CheckConstraint("bucket_end > bucket_start", name="bucket_ordered"),
)

# The time up to which the source has delivered trades and they are committed:
# a candle whose bucket ends at or before it is final.
ingestion_watermark = Table(
    "ingestion_watermark",
    metadata,
    Column("source", Text, primary_key=True),
    Column("watermark", DateTime(timezone=True), nullable=False),
)

# Every committed change of a stored candle, numbered in commit order (see migration 0004): what
# /candles/stream sends and resumes from.
candle_change_seq = Sequence("candle_change_seq", metadata=metadata)
candle_changes = Table(
    "candle_changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("symbol", Text, nullable=False),
    Column("interval", Text, nullable=False),
    Column("bucket_start", DateTime(timezone=True), nullable=False),
    Column("bucket_end", DateTime(timezone=True), nullable=False),
    Column("open", PRICE),
    Column("high", PRICE),
    Column("low", PRICE),
    Column("close", PRICE),
    Column("volume", BigInteger, nullable=False),
    Column("trade_count", BigInteger, nullable=False),
    Column("notional", Numeric(), nullable=False),
    Column("vwap", Numeric()),
    Column("complete", Boolean, nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)
# One row: changes up to `through` were pruned; `retention` is how long they are kept.
candle_change_horizon = Table(
    "candle_change_horizon",
    metadata,
    Column("through", BigInteger, nullable=False, server_default="0"),
    Column("retention", Interval, nullable=False, server_default=text("interval '1 hour'")),
)

ingestion_heartbeat = Table(
    "ingestion_heartbeat",
    metadata,
    Column("source", Text, primary_key=True),
    Column("beat_at", DateTime(timezone=True), nullable=False),
    Column("last_trade_at", DateTime(timezone=True)),
    Column("batches_committed", BigInteger, nullable=False),
    Column("trades_ingested", BigInteger, nullable=False),
    Column("last_batch_trades", Integer, nullable=False),
    Column("last_batch_duration_ms", Double, nullable=False),
    Column("failed_attempts", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
)

# Exact row counts kept by statement triggers in the writing transaction,
# sharded by backend so concurrent writers do not queue on one row.
row_counts = Table(
    "row_counts",
    metadata,
    Column("table_name", Text, nullable=False),
    Column("shard", SmallInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    PrimaryKeyConstraint("table_name", "shard"),
)


PARTITION_PREFIXES = ("trades_p", "trades_default")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For alembic: daily trade partitions are made at run time, not by migrations."""
    return not (type_ == "table" and name is not None and name.startswith(PARTITION_PREFIXES))
