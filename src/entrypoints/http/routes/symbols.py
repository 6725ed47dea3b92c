"""The supported symbols."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from application.symbols import ListSymbols
from entrypoints.http.shared_answers import SharedAnswers
from market_data_client.contract import SymbolsResponse


@get("/symbols", summary="The supported symbols")
async def list_symbols(
    list_symbols_use_case: NamedDependency[ListSymbols], shared_answers: NamedDependency[SharedAnswers]
) -> SymbolsResponse:
    async def read() -> SymbolsResponse:
        return SymbolsResponse(symbols=await list_symbols_use_case())

    # The list changes with a migration, not with traffic: one read a second serves every caller.
    return await shared_answers.get("symbols", read)
