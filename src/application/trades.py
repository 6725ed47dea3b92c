"""Use case: one page of a symbol's trades in a time range, with a stable cursor to the next."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import MarketReads
from domain.errors import InvalidValue, UnknownSymbol
from domain.ranges import TimeRange
from domain.trades import SUPPORTED_SYMBOLS, StoredTrade, TradeKey, trade_key

DEFAULT_PAGE = 1000
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class TradeQuery:
    symbol: str
    window: TimeRange
    limit: int = DEFAULT_PAGE
    after: TradeKey | None = None
    """Resume strictly after this (timestamp, id): the position a cursor carries."""


@dataclass(frozen=True, slots=True)
class TradePage:
    trades: list[StoredTrade]
    next_after: TradeKey | None
    """Where the next page starts, or None when this page is the last."""


class ListTrades:
    """Trades of one symbol in `[start, end)`, oldest first, ordered by (timestamp, id).

    Paging by position rather than offset keeps pages stable: trades already
    stored are never repeated or skipped, whatever is written meanwhile.
    """

    def __init__(self, reads: MarketReads) -> None:
        self._reads = reads

    async def __call__(self, query: TradeQuery) -> TradePage:
        if query.symbol not in SUPPORTED_SYMBOLS:
            raise UnknownSymbol(query.symbol, SUPPORTED_SYMBOLS)
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidValue("limit", query.limit, f"an integer from 1 to {MAX_PAGE}")
        # One more than asked tells whether another page exists without a count.
        rows = await self._reads.trade_page(query.symbol, query.window, query.after, query.limit + 1)
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return TradePage(page, trade_key(page[-1]) if more else None)
