"""Repositories over one session: they read and write, the unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.postgres.market_data import aggregate_candles, page_trades, trade_revision
from adapters.postgres.tables import ingestion_heartbeat, symbols, trades
from domain.candles import Candle, Interval, TradeKey
from domain.heartbeat import Heartbeat
from domain.ranges import TimeRange
from domain.trades import Trade

HEARTBEAT_SOURCE = "synthetic"


class PostgresTradeRepository:
    def __init__(self, session: AsyncSession, known_partitions: set[date]) -> None:
        self._session = session
        self._known = known_partitions
        self.new_partitions: set[date] = set()

    async def add_many(self, batch: Sequence[Trade]) -> int:
        if not batch:
            return 0
        await self.ensure_partitions({t.ts.date() for t in batch})
        rows = [{"symbol": t.symbol, "ts": t.ts, "price": t.price, "volume": t.volume} for t in batch]
        await self._session.execute(insert(trades), rows)
        return len(rows)

    async def ensure_partitions(self, days: set[date]) -> None:
        """Create missing daily partitions in this transaction (cheap when cached)."""
        for day in sorted(days - self._known - self.new_partitions):
            await self._session.execute(text("SELECT ensure_trade_partition(:d)"), {"d": day})
            self.new_partitions.add(day)

    async def latest_per_symbol(self) -> list[Trade]:
        """The last stored trade of each symbol, via the (symbol, ts, id) index."""
        latest = (
            select(trades)
            .where(trades.c.symbol == symbols.c.symbol)
            .order_by(trades.c.ts.desc(), trades.c.id.desc())
            .limit(1)
            .lateral()
        )
        result = await self._session.execute(select(latest).select_from(symbols).join(latest, text("true")))
        return [Trade(r.symbol, r.ts, r.price, r.volume, r.id) for r in result]

    async def page(self, symbol: str, window: TimeRange, after: TradeKey | None, limit: int) -> list[Trade]:
        return await page_trades(self._session, symbol, window, after, limit)

    async def revision(self, symbol: str) -> int | None:
        return await trade_revision(self._session, symbol)

    async def candles(
        self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[Candle]:
        return await aggregate_candles(self._session, symbol, interval, spans)


class PostgresHeartbeatStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> Heartbeat | None:
        row = (
            await self._session.execute(
                select(ingestion_heartbeat).where(ingestion_heartbeat.c.source == HEARTBEAT_SOURCE)
            )
        ).first()
        if row is None:
            return None
        values = row._asdict()
        values.pop("source")
        return Heartbeat(**values)

    async def put(self, heartbeat: Heartbeat) -> None:
        values = {"source": HEARTBEAT_SOURCE, **{f: getattr(heartbeat, f) for f in Heartbeat.__slots__}}
        statement = pg_insert(ingestion_heartbeat).values(values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[ingestion_heartbeat.c.source],
                set_={k: statement.excluded[k] for k in values if k != "source"},
            )
        )


class PostgresSymbolRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure(self, wanted: Sequence[str]) -> None:
        if wanted:
            await self._session.execute(pg_insert(symbols).on_conflict_do_nothing(), [{"symbol": s} for s in wanted])

    async def list(self) -> list[str]:
        result = await self._session.execute(select(symbols.c.symbol).order_by(symbols.c.symbol))
        return list(result.scalars())
