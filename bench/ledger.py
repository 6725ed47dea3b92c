"""What ingestion committed, checked in SQL: trades lost or duplicated, partial batches, candles that are wrong.

Checkable because ingestion is the only writer of a benchmark's own database: each batch is ONE
`INSERT ... SELECT unnest(...)` in the transaction that also writes the heartbeat (`trades_ingested`,
`batches_committed`, `last_batch_trades`), so the trades of one batch share their inserting
transaction id (`xmin`) and their identity ids are consecutive (a failed batch only leaves a gap
between batches). The synthetic source's timestamps are strictly increasing per symbol, so two rows
of one symbol at one instant are a duplicate. Candles are checked against a hand-written SQL
aggregate of the trades, every stored interval, every column (the trigger's work, redone differently).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from adapters.postgres.url import libpq_url

HEARTBEAT = (
    "SELECT trades_ingested, batches_committed, last_batch_trades, xmin::text::bigint"
    " FROM ingestion_heartbeat WHERE source = 'synthetic'"
)
# One row per inserting transaction: how many trades, and the span of their ids.
BATCHES = """
SELECT count(*) AS batches,
       coalesce(sum(trades), 0) AS trades,
       count(*) FILTER (WHERE last_id - first_id + 1 <> trades) AS partial,
       (array_agg(trades ORDER BY last_id DESC))[1] AS newest_trades,
       (array_agg(tx ORDER BY last_id DESC))[1] AS newest_tx
FROM (SELECT xmin::text::bigint AS tx, count(*) AS trades, min(id) AS first_id, max(id) AS last_id
      FROM trades GROUP BY 1) AS b
"""
DUPLICATES = "SELECT count(*) - count(DISTINCT (symbol, ts)) FROM trades"
# A trade stamped before an earlier-inserted one of its symbol was written behind what was stored.
BEHIND = """
SELECT count(*) FROM (
    SELECT ts <= lag(ts) OVER (PARTITION BY symbol ORDER BY id) AS behind FROM trades
) AS t WHERE behind
"""
STORED_INTERVALS = {
    "1m": "1 minute",
    "5m": "5 minutes",
    "15m": "15 minutes",
    "30m": "30 minutes",
    "1h": "1 hour",
    "4h": "4 hours",
    "1d": "1 day",
}
COLUMNS = (
    "bucket_end, open, high, low, close, volume, trade_count, notional, vwap, open_ts, open_id, close_ts, close_id"
)
_INTERVALS = ", ".join(f"('{name}', interval '{step}')" for name, step in STORED_INTERVALS.items())
# Buckets aligned to the Unix epoch; open and close by (ts, id); VWAP half up at 6 places in integers.
CANDLES = f"""
WITH truth AS (
    SELECT symbol, i.name AS interval, date_bin(i.step, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
           date_bin(i.step, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') + i.step AS bucket_end,
           (array_agg(price ORDER BY ts, id))[1] AS open, max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY ts DESC, id DESC))[1] AS close,
           sum(volume) AS volume, count(*) AS trade_count, sum(price * volume) AS notional,
           div(sum(price * volume) * 2000000 + sum(volume), 2 * sum(volume)) * 0.000001 AS vwap,
           min(ts) AS open_ts, (array_agg(id ORDER BY ts, id))[1] AS open_id,
           max(ts) AS close_ts, (array_agg(id ORDER BY ts DESC, id DESC))[1] AS close_id
    FROM trades CROSS JOIN (VALUES {_INTERVALS}) AS i(name, step)
    GROUP BY symbol, i.name, i.step, 3
)
SELECT count(*) FILTER (WHERE c.symbol IS NOT NULL AND t.symbol IS NOT NULL),
       count(*) FILTER (WHERE c.symbol IS NOT NULL AND t.symbol IS NOT NULL
                        AND ({", ".join(f"t.{c}" for c in COLUMNS.split(", "))})
                            IS DISTINCT FROM ({", ".join(f"c.{c}" for c in COLUMNS.split(", "))})),
       count(*) FILTER (WHERE c.symbol IS NULL),
       count(*) FILTER (WHERE t.symbol IS NULL)
FROM truth AS t
FULL JOIN candles AS c USING (symbol, interval, bucket_start)
"""


@dataclass(frozen=True, slots=True)
class Ledger:
    """The figures of the check; `problems()` names every one that is not as it must be."""

    heartbeat_trades: int
    heartbeat_batches: int
    rows: int
    batches_with_trades: int
    partial_batches: int
    duplicates: int
    written_behind: int
    heartbeat_with_its_batch: bool
    candles_compared: int
    candles_wrong: int
    candles_missing: int
    candles_extra: int

    @property
    def lost(self) -> int:
        """Trades the heartbeat counted as committed that are not stored (negative: stored, never counted)."""
        return self.heartbeat_trades - self.rows

    def problems(self) -> list[str]:
        found = [
            f"{self.lost} trades lost" if self.lost > 0 else "",
            f"{-self.lost} trades stored that the heartbeat never counted" if self.lost < 0 else "",
            f"{self.duplicates} duplicated trades" if self.duplicates else "",
            f"{self.written_behind} trades written behind a later one" if self.written_behind else "",
            f"{self.partial_batches} partial batches" if self.partial_batches else "",
            "more batches with trades than the heartbeat committed"
            if self.batches_with_trades > self.heartbeat_batches
            else "",
            "" if self.heartbeat_with_its_batch else "the heartbeat was not committed with the newest batch",
            f"{self.candles_wrong} stored candles differ from their trades" if self.candles_wrong else "",
            f"{self.candles_missing} candles of stored trades are missing" if self.candles_missing else "",
            f"{self.candles_extra} stored candles have no trades" if self.candles_extra else "",
        ]
        return [p for p in found if p]

    def rows_for_table(self) -> list[list[object]]:
        return [
            ["trades stored / counted by the heartbeat", f"{self.rows:,} / {self.heartbeat_trades:,}"],
            ["trades lost", max(self.lost, 0)],
            ["trades duplicated", self.duplicates],
            ["trades written behind a later one", self.written_behind],
            ["batches committed / with trades", f"{self.heartbeat_batches:,} / {self.batches_with_trades:,}"],
            ["partial batches (ids not consecutive in a transaction)", self.partial_batches],
            ["heartbeat committed with the newest batch", "yes" if self.heartbeat_with_its_batch else "NO"],
            ["stored candles equal to their trades' (all intervals)", f"{self.candles_compared:,}"],
            [
                "stored candles wrong / missing / extra",
                f"{self.candles_wrong} / {self.candles_missing} / {self.candles_extra}",
            ],
        ]


def check(url: str) -> Ledger:
    """Read the figures in one repeatable-read snapshot (ingestion may still be running)."""
    with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        heartbeat = conn.execute(HEARTBEAT).fetchone() or (0, 0, 0, None)
        batches, rows, partial, newest_trades, newest_tx = conn.execute(BATCHES).fetchone() or (0, 0, 0, None, None)
        duplicates = _scalar(conn, DUPLICATES)
        behind = _scalar(conn, BEHIND)
        compared, wrong, missing, extra = conn.execute(CANDLES).fetchone() or (0, 0, 0, 0)
    trades_ingested, batches_committed, last_batch_trades, heartbeat_tx = heartbeat
    # An empty newest batch writes only the heartbeat; otherwise both share one transaction.
    with_batch = last_batch_trades == 0 or (heartbeat_tx == newest_tx and last_batch_trades == newest_trades)
    return Ledger(
        int(trades_ingested),
        int(batches_committed),
        int(rows),
        int(batches),
        int(partial),
        duplicates,
        behind,
        with_batch,
        int(compared),
        int(wrong),
        int(missing),
        int(extra),
    )


def _scalar(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0
