"""The supported symbols."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency

from adapters.http_client.answer_cache import AnswerCache
from application.symbols import ListSymbols
from market_data_client.contract import SymbolsResponse


@get("/symbols", summary="The supported symbols")
async def list_symbols(state: State, list_symbols_use_case: NamedDependency[ListSymbols]) -> SymbolsResponse:
    async def read() -> SymbolsResponse:
        return SymbolsResponse(symbols=await list_symbols_use_case())

    # The list changes with a migration, not with traffic: one read a second serves every caller.
    # (The cache comes from `state`, not as a second dependency: Litestar resolves two in a task group.)
    answers: AnswerCache[str, SymbolsResponse] = state.shared_answers
    return await answers.get("symbols", read)
