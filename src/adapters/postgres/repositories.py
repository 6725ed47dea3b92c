"""Repositories over one session: they read and write, the unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from psycopg.rows import args_row
from sqlalchemy import BigInteger, Numeric, Text, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.postgres.driver import driver_connection
from adapters.postgres.market_data import aggregate_candles
from adapters.postgres.tables import ingestion_heartbeat, ingestion_watermark, symbols, trades
from domain.candles import Candle, Interval
from domain.heartbeat import Heartbeat
from domain.trades import Trade

HEARTBEAT_SOURCE = "synthetic"
READ_HEARTBEAT = f"SELECT {', '.join(Heartbeat.__slots__)} FROM ingestion_heartbeat WHERE source = %s"
READ_WATERMARK = "SELECT watermark FROM ingestion_watermark WHERE source = %s"
INSERT_TRADES = text(
    "INSERT INTO trades (symbol, ts, price, volume) SELECT * FROM unnest(:symbols, :stamps, :prices, :volumes)"
).bindparams(
    bindparam("symbols", type_=ARRAY(Text)),
    bindparam("stamps", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("prices", type_=ARRAY(Numeric(18, 2))),
    bindparam("volumes", type_=ARRAY(BigInteger)),
)


class PostgresTradeRepository:
    def __init__(self, session: AsyncSession, known_partitions: set[date]) -> None:
        self._session = session
        self._known = known_partitions
        self.new_partitions: set[date] = set()

    async def add_many(self, batch: Sequence[Trade]) -> int:
        if not batch:
            return 0
        await self.ensure_partitions({t.ts.date() for t in batch})
        # ONE statement, whatever the batch size: the candle trigger folds the batch once.
        await self._session.execute(
            INSERT_TRADES,
            {
                "symbols": [t.symbol for t in batch],
                "stamps": [t.ts for t in batch],
                "prices": [t.price for t in batch],
                "volumes": [t.volume for t in batch],
            },
        )
        return len(batch)

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

    async def candles(
        self, symbol: str, interval: Interval, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[Candle]:
        return await aggregate_candles(self._session, symbol, interval, spans)


class PostgresHeartbeatStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> Heartbeat | None:
        # Every /candles answer reads it: straight on the driver, prepared.
        raw = await driver_connection(self._session)
        async with raw.cursor(row_factory=args_row(Heartbeat)) as cursor:
            await cursor.execute(READ_HEARTBEAT, (HEARTBEAT_SOURCE,), prepare=True)
            heartbeat: Heartbeat | None = await cursor.fetchone()
            return heartbeat

    async def put(self, heartbeat: Heartbeat) -> None:
        values = {"source": HEARTBEAT_SOURCE, **{f: getattr(heartbeat, f) for f in Heartbeat.__slots__}}
        statement = pg_insert(ingestion_heartbeat).values(values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[ingestion_heartbeat.c.source],
                set_={k: statement.excluded[k] for k in values if k != "source"},
            )
        )


class PostgresWatermarkStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> datetime | None:
        raw = await driver_connection(self._session)
        cursor = await raw.execute(READ_WATERMARK, (HEARTBEAT_SOURCE,), prepare=True)
        row = await cursor.fetchone()
        return row[0] if row else None

    async def advance(self, to: datetime) -> None:
        statement = pg_insert(ingestion_watermark).values(source=HEARTBEAT_SOURCE, watermark=to)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[ingestion_watermark.c.source],
                set_={"watermark": func.greatest(ingestion_watermark.c.watermark, statement.excluded.watermark)},
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
