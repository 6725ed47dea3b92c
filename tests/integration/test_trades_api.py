"""/trades over real HTTP: values one by one, cursor paging that neither repeats nor skips, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.integration.market_data_support import insert_trades
from tests.integration.support import LiveServer

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = {"symbol": "AAPL", "start": "2026-11-20T10:00:00Z", "end": "2026-11-20T11:00:00Z"}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def page(server: LiveServer, **params: object) -> dict:
    response = httpx.get(f"{server.base_url}/trades", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_trades_are_returned_value_by_value_oldest_first(live_server: LiveServer, clean_db: str) -> None:
    stored = insert_trades(
        clean_db,
        "AAPL",
        [(at(5), "190.10", 3), (at(1.000001), "190.05", 100), (at(5), "190.00", 7), (at(3600), "1.00", 1)],
    )
    insert_trades(clean_db, "MSFT", [(at(2), "400.00", 1)])
    body = page(live_server)
    assert body["trades"] == [
        {
            "id": stored[1].id,
            "symbol": "AAPL",
            "timestamp": "2026-11-20T10:00:01.000001Z",
            "price": "190.05",
            "volume": 100,
        },
        {"id": stored[0].id, "symbol": "AAPL", "timestamp": "2026-11-20T10:00:05Z", "price": "190.10", "volume": 3},
        {"id": stored[2].id, "symbol": "AAPL", "timestamp": "2026-11-20T10:00:05Z", "price": "190.00", "volume": 7},
    ]  # the trade at exactly `end` is outside [start, end)
    assert (body["next_cursor"], body["limit"], body["start"], body["end"]) == (
        None,
        1000,
        "2026-11-20T10:00:00Z",
        "2026-11-20T11:00:00Z",
    )


def test_cursor_pages_neither_repeat_nor_skip_even_while_trades_arrive(live_server: LiveServer, clean_db: str) -> None:
    insert_trades(clean_db, "AAPL", [(at(10 * i), f"{100 + i}.00", 1) for i in range(7)])
    first = page(live_server, limit=3)
    assert [t["price"] for t in first["trades"]] == ["100.00", "101.00", "102.00"]
    # Meanwhile: a trade at the same instant as the last one seen (higher id), and one later on.
    insert_trades(clean_db, "AAPL", [(at(20), "999.00", 1), (at(65), "555.00", 1)])
    second = page(live_server, limit=3, cursor=first["next_cursor"])
    third = page(live_server, limit=3, cursor=second["next_cursor"])
    prices = [t["price"] for p in (first, second, third) for t in p["trades"]]
    assert prices == ["100.00", "101.00", "102.00", "999.00", "103.00", "104.00", "105.00", "106.00", "555.00"]
    assert third["next_cursor"] is None
    assert len({t["id"] for p in (first, second, third) for t in p["trades"]}) == 9


def test_bad_input_is_a_400_naming_the_parameter(live_server: LiveServer) -> None:
    cases = [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"symbol": "aapl"}, "symbol"),
        ({"start": "2026-11-20 10:00"}, "start"),
        ({"end": "2026-11-20T10:00:00Z"}, "end"),
    ]
    for change, param in cases:
        response = httpx.get(f"{live_server.base_url}/trades", params={**WINDOW, **change})
        assert response.status_code == 400, change
        assert response.json()["invalid_params"][0]["name"] == param, change
