"""Candles written with the trades: after every kind of write, every stored candle is the candle of its trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.postgres.bulk import PostgresCandleRebuilder, PostgresTradeCopier
from adapters.postgres.url import libpq_url
from domain.ranges import to_micros
from domain.trades import Trade
from entrypoints.container import Container, resolve
from tests.integration.market_data_support import assert_candles_true, insert_trades
from tests.strategies import EPOCH_2026, edgy_instants, prices

SPAN = timedelta(days=2)
SYMBOLS = ("AAPL", "MSFT")
trade_rows = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), edgy_instants(span=SPAN), prices(max_ticks=100_000), st.integers(1, 1000)),
    min_size=1,
    max_size=25,
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ingest"), trade_rows),
        st.tuples(st.just("backfill"), trade_rows),
        st.tuples(st.just("late"), trade_rows),
        st.tuples(st.just("update_price"), st.integers(2, 5), st.integers(0, 4)),
        st.tuples(st.just("move"), st.integers(2, 5), st.integers(0, 4), st.integers(-7200, 7200)),
        st.tuples(st.just("delete"), st.integers(2, 5), st.integers(0, 4)),
    ),
    min_size=1,
    max_size=6,
)


def execute(url: str, sql: str, *params: object) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(sql, params)


async def ingest(container: Container, rows: list) -> None:
    """Through the application's own path: one INSERT statement in a unit of work, then commit."""
    async with (await resolve(container.gateways.unit_of_work))() as uow:
        await uow.trades.add_many([Trade(s, ts, p, v) for s, ts, p, v in rows])
        await uow.commit()


def backfill(url: str, rows: list) -> None:
    raw = sorted((s, to_micros(ts), int(p * 100), v) for s, ts, p, v in rows)
    PostgresTradeCopier(url).copy([raw], (min(r[1] for r in rows), max(r[1] for r in rows) + timedelta(microseconds=1)))


def late(url: str, rows: list) -> None:
    """Trades written by hand, as one multi-row statement, wherever they fall."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SELECT ensure_trade_partitions(%s, %s)", (min(r[1] for r in rows), max(r[1] for r in rows)))
        values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
        conn.execute(f"INSERT INTO trades (symbol, ts, price, volume) VALUES {values}", [x for r in rows for x in r])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
async def test_every_stored_candle_is_the_candle_of_its_trades_after_any_write(
    container: Container, clean_db: str, plan: list
) -> None:
    execute(clean_db, "TRUNCATE trades, candles RESTART IDENTITY")
    for step in plan:
        kind = step[0]
        if kind == "ingest":
            await ingest(container, step[1])
        elif kind == "backfill":
            backfill(clean_db, step[1])
        elif kind == "late":
            late(clean_db, step[1])
        elif kind == "update_price":
            execute(clean_db, "UPDATE trades SET price = price + 0.01 WHERE id %% %s = %s", step[1], step[2])
        elif kind == "move":
            # Trades moved in time (within their day's partition or across): both old and new buckets change.
            execute(
                clean_db,
                "UPDATE trades SET ts = greatest(%s, least(%s, ts + %s * interval '1 second')) WHERE id %% %s = %s",
                EPOCH_2026,
                EPOCH_2026 + SPAN - timedelta(microseconds=1),
                step[3],
                step[1],
                step[2],
            )
        else:
            execute(clean_db, "DELETE FROM trades WHERE id %% %s = %s", step[1], step[2])
        assert_candles_true(clean_db)


def test_open_and_close_are_decided_by_timestamp_then_id_across_out_of_order_writes(clean_db: str) -> None:
    edge = EPOCH_2026 + timedelta(minutes=1)
    insert_trades(clean_db, "AAPL", [(edge - timedelta(seconds=30), "2.00", 1)])
    insert_trades(clean_db, "AAPL", [(edge - timedelta(seconds=59), "1.00", 1)])  # earlier: the new open
    insert_trades(clean_db, "AAPL", [(edge - timedelta(seconds=59), "3.00", 1)])  # tie: later id, not the open
    insert_trades(clean_db, "AAPL", [(edge - timedelta(microseconds=1), "4.00", 1)])  # the close
    assert_candles_true(clean_db)
    with psycopg.connect(libpq_url(clean_db)) as conn:
        row = conn.execute("SELECT open, close, high, low FROM candles WHERE interval = '1m'").fetchone()
    assert row == (Decimal("1.00"), Decimal("4.00"), Decimal("4.00"), Decimal("1.00"))


def test_truncate_empties_the_candles(clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", [(EPOCH_2026, "1.00", 1)])
    execute(clean_db, "TRUNCATE trades")
    assert_candles_true(clean_db)


async def test_an_ingestion_batch_is_one_statement_and_one_fold(container: Container, clean_db: str) -> None:
    execute(clean_db, "CREATE TABLE IF NOT EXISTS statement_log (at timestamptz DEFAULT clock_timestamp())")
    execute(
        clean_db,
        "CREATE OR REPLACE FUNCTION log_statement() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO statement_log DEFAULT VALUES; RETURN NULL; END $$",
    )
    execute(clean_db, "DROP TRIGGER IF EXISTS log_trade_statements ON trades")
    execute(
        clean_db,
        "CREATE TRIGGER log_trade_statements AFTER INSERT ON trades FOR EACH STATEMENT EXECUTE FUNCTION log_statement()",
    )
    try:
        now = datetime(2026, 3, 1, 12, tzinfo=UTC)
        rows = [(s, now + timedelta(milliseconds=i), Decimal("10.00") + i, 1 + i) for i in range(40) for s in SYMBOLS]
        await ingest(container, rows)
        with psycopg.connect(libpq_url(clean_db)) as conn:
            assert conn.execute("SELECT count(*) FROM statement_log").fetchone() == (1,)
    finally:
        execute(clean_db, "DROP TRIGGER IF EXISTS log_trade_statements ON trades")
        execute(clean_db, "DROP TABLE IF EXISTS statement_log")
    assert_candles_true(clean_db)


def test_rebuild_repairs_candles_of_trades_written_with_the_triggers_disabled(clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", [(EPOCH_2026 + timedelta(hours=1), "5.00", 1)])
    with psycopg.connect(libpq_url(clean_db)) as conn:
        conn.execute("ALTER TABLE trades DISABLE TRIGGER trades_candles_insert")
        conn.execute(
            "INSERT INTO trades (symbol, ts, price, volume) VALUES ('AAPL', %s, 6.00, 2), ('MSFT', %s, 7.00, 3)",
            (EPOCH_2026 + timedelta(hours=1, seconds=1), EPOCH_2026 + timedelta(hours=30)),
        )
        conn.execute("ALTER TABLE trades ENABLE TRIGGER trades_candles_insert")
    with pytest.raises(AssertionError):
        assert_candles_true(clean_db)
    rebuilder = PostgresCandleRebuilder(clean_db)
    differed = sum(rebuilder.rebuild(*day) for day in rebuilder.days(None, None))
    assert differed == 7 + 7  # AAPL's 7 intervals changed, MSFT's 7 were missing
    assert_candles_true(clean_db)
    assert sum(rebuilder.rebuild(*day) for day in rebuilder.days(None, None)) == 0
