"""Trades in PostgreSQL: partitions on demand, constraints, exact counters, the resume query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from adapters.postgres.bulk import PostgresTradeCopier
from adapters.postgres.url import libpq_url
from domain.trades import Trade
from entrypoints.container import Container, resolve

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def _sql(url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        cursor = conn.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


async def test_trades_land_in_daily_partitions_and_read_back_exactly(container: Container, clean_db: str) -> None:
    uow_factory = await resolve(container.gateways.unit_of_work)
    trades = [
        Trade("AAPL", DAY + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999), Decimal("187.23"), 7),
        Trade("AAPL", DAY + timedelta(days=1), Decimal("187.24"), 3),
        Trade("MSFT", DAY + timedelta(hours=1), Decimal("0.01"), 1_000_000),
    ]
    async with uow_factory() as uow:
        await uow.trades.add_many(trades)
        await uow.commit()
    placed = _sql(clean_db, "SELECT tableoid::regclass::text, symbol, ts, price FROM trades ORDER BY symbol, ts")
    assert [(p[0], p[1]) for p in placed] == [
        ("trades_p20260302", "AAPL"),
        ("trades_p20260303", "AAPL"),
        ("trades_p20260302", "MSFT"),
    ]
    assert [p[3] for p in placed] == [Decimal("187.23"), Decimal("187.24"), Decimal("0.01")]
    assert placed[0][2] == trades[0].ts
    async with uow_factory() as uow:
        latest = {t.symbol: t for t in await uow.trades.latest_per_symbol()}
    assert latest["AAPL"].ts == trades[1].ts and latest["AAPL"].price == Decimal("187.24")
    assert latest["MSFT"].volume == 1_000_000
    assert set(latest) == {"AAPL", "MSFT"}


def test_rows_caught_by_the_default_partition_move_into_the_day_partition(clean_db: str) -> None:
    ts = datetime(2031, 5, 17, 12, tzinfo=UTC)
    _sql(clean_db, "INSERT INTO trades (symbol, ts, price, volume) VALUES ('TSLA', %s, 250.5, 2)", ts)
    assert _sql(clean_db, "SELECT tableoid::regclass::text FROM trades") == [("trades_default",)]
    _sql(clean_db, "SELECT ensure_trade_partition(%s::date)", ts.date())
    assert _sql(clean_db, "SELECT tableoid::regclass::text, price FROM trades") == [
        ("trades_p20310517", Decimal("250.50"))
    ]
    assert _sql(clean_db, "SELECT sum(rows) FROM row_counts WHERE table_name = 'trades'") == [(1,)]


@pytest.mark.parametrize(
    ("symbol", "price", "volume", "constraint"),
    [
        ("AAPL", "0", 1, "ck_trades_price_positive"),
        ("AAPL", "-5.00", 1, "ck_trades_price_positive"),
        ("AAPL", "1.00", 0, "ck_trades_volume_positive"),
        ("ZZZZ", "1.00", 1, "fk_trades_symbol_symbols"),
    ],
)
def test_impossible_rows_are_rejected(clean_db: str, symbol: str, price: str, volume: int, constraint: str) -> None:
    with pytest.raises(psycopg.errors.IntegrityError) as raised:
        _sql(
            clean_db, "INSERT INTO trades (symbol, ts, price, volume) VALUES (%s, now(), %s, %s)", symbol, price, volume
        )
    assert raised.value.diag.constraint_name == constraint


def test_row_counters_are_exact_through_insert_copy_delete_and_truncate(clean_db: str) -> None:
    def count() -> int:
        return int(_sql(clean_db, "SELECT coalesce(sum(rows), 0) FROM row_counts WHERE table_name = 'trades'")[0][0])

    _sql(
        clean_db,
        "INSERT INTO trades (symbol, ts, price, volume) SELECT 'AAPL', now() - i * interval '1 ms', 1, 1 FROM generate_series(1, 250) i",
    )
    rows = [("GOOGL", 1_772_409_600_000_000 + i, 14_000 + i, 1 + i) for i in range(1000)]
    PostgresTradeCopier(clean_db).copy([rows[:400], rows[400:]], (DAY, DAY + timedelta(days=1)))
    assert count() == 1250 == _sql(clean_db, "SELECT count(*) FROM trades")[0][0]
    _sql(clean_db, "DELETE FROM trades WHERE symbol = 'AAPL'")
    assert count() == 1000
    _sql(clean_db, "TRUNCATE trades")
    assert count() == 0


def test_a_copy_that_fails_loads_nothing(clean_db: str) -> None:
    good = [("AAPL", 1_772_409_600_000_000 + i, 100, 1) for i in range(100)]
    bad = [("NOPE", 1_772_409_700_000_000, 100, 1)]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        PostgresTradeCopier(clean_db).copy([good, bad], (DAY, DAY + timedelta(days=1)))
    assert _sql(clean_db, "SELECT count(*) FROM trades") == [(0,)]
