"""Bounded input at the app: error texts quote at most 200 characters; a single-valued parameter is given once."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar, get
from litestar.params import FromQuery
from litestar.testing import TestClient

from domain.errors import QUOTED_CHARACTERS, InvalidValue, UnknownSymbol, quoted
from entrypoints.http.dependencies import dependencies
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.params import decode_cursor, parse_instant
from entrypoints.http.routes.candle_stream import parse_last_event_id, parse_symbols, stream_candles
from entrypoints.http.routes.candles import get_candles
from entrypoints.http.routes.trades import list_trades
from entrypoints.http.single_valued import SingleValuedQuery

LONG = "x" * 8192


def test_a_long_input_is_quoted_cut_with_its_length_and_a_short_one_whole() -> None:
    assert quoted(LONG) == repr("x" * QUOTED_CHARACTERS) + "…(8192 characters)"
    assert quoted("x" * QUOTED_CHARACTERS) == repr("x" * QUOTED_CHARACTERS)
    assert quoted("AAPL") == "'AAPL'"
    assert quoted(7) == "7"


@pytest.mark.parametrize(
    "refuse",
    [
        lambda: parse_instant("start", LONG),
        lambda: decode_cursor(LONG),
        lambda: parse_last_event_id(LONG, None),
        lambda: parse_symbols(f"AAPL,{LONG}"),
    ],
    ids=["time", "cursor", "last-event-id", "symbol"],
)
def test_error_texts_never_echo_an_8_kib_input_whole(refuse: Callable[[], object]) -> None:
    with pytest.raises((InvalidValue, UnknownSymbol)) as raised:
        refuse()
    text = str(raised.value)
    assert "…(8192 characters)" in text
    assert max(len(run) for run in re.findall("x+", text)) == QUOTED_CHARACTERS
    assert len(text) < 600


@get("/echo", sync_to_thread=False)
def echo(symbol: FromQuery[str], tag: FromQuery[list[str] | None] = None, limit: FromQuery[int] = 1) -> dict[str, str]:
    return {"symbol": symbol, "tags": ",".join(tag or []), "limit": str(limit)}


def client() -> TestClient[Litestar]:
    app = Litestar(
        route_handlers=[echo, get_candles, list_trades, stream_candles],
        dependencies=dependencies(),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=SingleValuedQuery(),
    )
    return TestClient(app)


@pytest.mark.parametrize(
    ("path", "name", "times"),
    [
        ("/candles?symbol=AAPL&symbol=MSFT&interval=1m", "symbol", 2),
        ("/trades?symbol=AAPL&limit=1&limit=2", "limit", 2),
        ("/candles/stream?symbol=AAPL,MSFT&symbol=TSLA", "symbol", 2),
        ("/echo?symbol=A&symbol=B&symbol=C", "symbol", 3),
    ],
)
def test_a_single_valued_parameter_given_twice_is_a_400_naming_it(path: str, name: str, times: int) -> None:
    with client() as http:
        response = http.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    reason = f"may be given only once (it was given {times} times)"
    assert response.json()["invalid_params"] == [{"name": name, "reason": reason}]
    assert response.json()["detail"] == f"{name}: {reason}"


def test_list_parameters_and_parameters_the_route_does_not_take_may_repeat() -> None:
    with client() as http:
        response = http.get("/echo?symbol=A&tag=x&tag=y&unknown=1&unknown=2&limit=3")
    assert response.status_code == 200
    assert response.json() == {"symbol": "A", "tags": "x,y", "limit": "3"}
