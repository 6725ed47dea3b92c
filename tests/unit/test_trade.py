"""The Trade value object checks its own invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given

from domain.errors import InvalidValue
from domain.trades import Trade, from_raw
from tests.strategies import prices, trades, volumes

NOON = datetime(2026, 11, 29, 12, tzinfo=UTC)


@given(trades())
def test_the_notional_is_exact(trade: Trade) -> None:
    # Computed apart, in integer ticks: no float and no decimal context can round it.
    ticks = int(trade.price.scaleb(2))
    assert trade.notional == Decimal(ticks * trade.volume).scaleb(-2)


def test_a_notional_beyond_float_precision_stays_exact() -> None:
    trade = Trade("AAPL", NOON, Decimal("99999999.99"), 999_999_999_999)
    assert str(trade.notional) == "99999999989900000000.01"  # 99999999.99 x (10**12 - 1)


@given(prices(), volumes())
def test_raw_form_round_trips_exactly(price: Decimal, volume: int) -> None:
    ticks = int(price * 100)
    trade = from_raw(("AAPL", 1_764_417_600_123_456, ticks, volume))
    assert trade.price == price
    assert trade.ts == datetime(2025, 11, 29, 12, 0, 0, 123_456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("price", {"price": Decimal("0")}),
        ("price", {"price": Decimal("-1.00")}),
        ("price", {"price": Decimal("1.005")}),
        ("price", {"price": Decimal("NaN")}),
        ("price", {"price": 1.5}),
        ("volume", {"volume": 0}),
        ("volume", {"volume": True}),
        ("ts", {"ts": datetime(2026, 11, 29, 12)}),
        ("ts", {"ts": datetime(2026, 11, 29, 12, tzinfo=timezone(timedelta(hours=1)))}),
        ("symbol", {"symbol": "aapl"}),
        ("symbol", {"symbol": ""}),
    ],
)
def test_impossible_trades_are_refused_naming_the_field(field: str, kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"symbol": "AAPL", "ts": NOON, "price": Decimal("187.23"), "volume": 10}
    values.update(kwargs)
    with pytest.raises(InvalidValue) as raised:
        Trade(**values)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert field in str(raised.value)
