"""The supported symbols."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from application.symbols import ListSymbols
from market_data_client.contract import SymbolsResponse


@get("/symbols", summary="The supported symbols")
async def list_symbols(list_symbols_use_case: NamedDependency[ListSymbols]) -> SymbolsResponse:
    return SymbolsResponse(symbols=await list_symbols_use_case())
