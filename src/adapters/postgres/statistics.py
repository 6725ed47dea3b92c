"""The heartbeat, the watermark and exact row counts in one short read-only transaction; never a count(*) over trades."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.postgres.repositories import PostgresHeartbeatStore, PostgresWatermarkStore
from adapters.postgres.tables import row_counts
from application.ports import StoreStatistics

COUNTED = ("trades", "candles")


class PostgresStatisticsReader:
    """Sums the trigger-maintained `row_counts` shards (a few dozen rows, whatever the table sizes)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def read(self) -> StoreStatistics:
        async with self._sessions() as session:
            heartbeat = await PostgresHeartbeatStore(session).get()
            watermark = await PostgresWatermarkStore(session).get()
            result = await session.execute(
                select(row_counts.c.table_name, func.coalesce(func.sum(row_counts.c.rows), 0))
                .where(row_counts.c.table_name.in_(COUNTED))
                .group_by(row_counts.c.table_name)
            )
            counts = {name: int(total) for name, total in result.tuples()}
            await session.rollback()
        return StoreStatistics(heartbeat, counts.get("trades", 0), counts.get("candles", 0), watermark)
