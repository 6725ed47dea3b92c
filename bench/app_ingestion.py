"""Ingestion batches through the application's own path (IngestBatch, unit of work, SQLAlchemy), candle trigger on/off."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.postgres.engine import PoolSettings, build_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from adapters.synthetic.source import SyntheticTradeSource
from application.ingestion import IngestBatch
from domain.trades import SUPPORTED_SYMBOLS

TRIGGER = "trades_candles_insert"


class SteppedClock:
    """Moves one second per batch, so every batch holds one second of trades, as at the default interval."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def app_batches(url: str, start: datetime, rate: float, batches: int, block: int, seed: int) -> dict[str, list[float]]:
    """Seconds per IngestBatch call (generation, INSERT, watermark, heartbeat, COMMIT), arms A (trigger) / B (none)."""
    return asyncio.run(_run(url, start, rate, batches, block, seed))


async def _run(url: str, start: datetime, rate: float, batches: int, block: int, seed: int) -> dict[str, list[float]]:
    engine = build_engine(url, PoolSettings(size=2, max_overflow=0))
    clock = SteppedClock(start)
    source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=start, trades_per_second=rate, seed=seed)
    ingest = IngestBatch(source, PostgresUnitOfWorkFactory(async_sessionmaker(engine, expire_on_commit=False)), clock)
    times: dict[str, list[float]] = {"A": [], "B": []}
    try:
        for index in range(2 * -(-batches // block)):
            arm = "AB"[(index + index // 2) % 2]  # A B B A ...: neither arm always goes first
            async with engine.begin() as conn:
                await conn.execute(
                    text(f"ALTER TABLE trades {'ENABLE' if arm == 'A' else 'DISABLE'} TRIGGER {TRIGGER}")
                )
            for i in range(block + 1):
                clock.at += timedelta(seconds=1)
                began = time.perf_counter()
                await ingest()
                if i:  # the first batch after a switch re-plans: a warm-up
                    times[arm].append(time.perf_counter() - began)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"ALTER TABLE trades ENABLE TRIGGER {TRIGGER}"))
        await engine.dispose()
    return times
