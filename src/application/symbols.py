"""Use cases about the symbol universe."""

from __future__ import annotations

from application.ports import UnitOfWorkFactory
from domain.trades import SUPPORTED_SYMBOLS


class InitializeSymbols:
    """Makes sure the supported symbols exist; safe to run at every startup."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> None:
        async with self._uow() as uow:
            await uow.symbols.ensure(SUPPORTED_SYMBOLS)
            await uow.commit()


class ListSymbols:
    """The symbols the service stores and serves."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> list[str]:
        async with self._uow() as uow:
            return await uow.symbols.list()
