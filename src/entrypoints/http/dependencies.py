"""Small Provide functions: handlers receive use cases built by the container."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from application.symbols import ListSymbols
from entrypoints.container import resolve


async def _list_symbols(state: State) -> ListSymbols:
    return await resolve(state.container.use_cases.list_symbols)


DEPENDENCIES = {
    "list_symbols_use_case": Provide(_list_symbols),
}
