"""The unit of work owns the transaction: it rolls back unless `commit()` was called."""

from __future__ import annotations

import logging
from datetime import date
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.postgres.market_data import PostgresCandleRepository
from adapters.postgres.repositories import (
    PostgresHeartbeatStore,
    PostgresSymbolRepository,
    PostgresTradeRepository,
    PostgresWatermarkStore,
)

log = logging.getLogger(__name__)


class PostgresUnitOfWork:
    trades: PostgresTradeRepository
    heartbeat: PostgresHeartbeatStore
    symbols: PostgresSymbolRepository
    candles: PostgresCandleRepository
    watermark: PostgresWatermarkStore

    def __init__(self, sessions: async_sessionmaker[AsyncSession], known_partitions: set[date]) -> None:
        self._sessions = sessions
        self._known_partitions = known_partitions
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self.trades = PostgresTradeRepository(self.session, self._known_partitions)
        self.heartbeat = PostgresHeartbeatStore(self.session)
        self.symbols = PostgresSymbolRepository(self.session)
        self.candles = PostgresCandleRepository(self.session)
        self.watermark = PostgresWatermarkStore(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        except Exception:
            # The connection may be gone (that is often why we are here); the
            # server rolls back an abandoned transaction by itself.
            log.debug("rollback failed", exc_info=True)
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True
        # Only partitions that really exist now may be skipped next time.
        self._known_partitions |= self.trades.new_partitions


class PostgresUnitOfWorkFactory:
    """Opens units of work on one session factory, sharing what is known about partitions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._known_partitions: set[date] = set()

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._sessions, self._known_partitions)
