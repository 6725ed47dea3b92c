"""GET /trades: one symbol's trades in a time range, oldest first, paged by a stable cursor."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.trades import DEFAULT_PAGE, MAX_PAGE, ListTrades, TradePage, TradeQuery
from domain.trades import SUPPORTED_SYMBOLS, StoredTrade
from entrypoints.http.openapi import problem_responses
from entrypoints.http.params import TIME_FORMAT, decode_cursor, encode_cursor, parse_window
from market_data_client.contract import TradeOut, TradesResponse


def trade_out(trade: StoredTrade) -> TradeOut:
    return TradeOut(trade.id, trade.symbol, trade.ts, trade.price, trade.volume)


def trades_response(query: TradeQuery, page: TradePage) -> TradesResponse:
    cursor = encode_cursor(page.next_after) if page.next_after else None
    trades = [trade_out(t) for t in page.trades]
    return TradesResponse(query.symbol, query.window.start, query.window.end, query.limit, trades, cursor)


@get(
    "/trades",
    summary="Trades of one symbol in [start, end), oldest first, with a stable cursor",
    description=(
        "Ordered by (timestamp, id). Prices are exact decimal strings. Page with `next_cursor`: "
        "pages never repeat or skip a stored trade."
    ),
    responses=problem_responses(400, 503),
)
async def list_trades(
    list_trades_use_case: NamedDependency[ListTrades],
    symbol: Annotated[str, Parameter(description="A supported symbol", schema_extra={"enum": list(SUPPORTED_SYMBOLS)})],
    start: Annotated[str, Parameter(description=f"Inclusive start: {TIME_FORMAT}")],
    end: Annotated[str, Parameter(description=f"Exclusive end, after start: {TIME_FORMAT}")],
    limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"Trades per page, 1 to {MAX_PAGE}")] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page")] = None,
) -> TradesResponse:
    after = decode_cursor(cursor) if cursor is not None else None
    query = TradeQuery(symbol, parse_window(start, end), limit, after)
    return trades_response(query, await list_trades_use_case(query))
