"""Warms the /candles read path at startup, so the first request after a restart costs what the others do."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import msgspec

from application.candles import CandleQuery, Fill
from domain.candles import Interval
from domain.ranges import TimeRange
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.container import Container, resolve
from entrypoints.http.routes.candles import candles_response

log = logging.getLogger("mdp.app")


async def warm_read_path(container: Container) -> None:
    """One small /candles answer, built and encoded: opens a pooled connection, prepares the statements
    (stored candles, the repair probe, the watermark and heartbeat reads) and builds the encoders."""
    get_candles = await resolve(container.use_cases.get_candles)
    now = container.core.clock().now()
    # A range that ends in the future: its empty buckets exercise the repair probe too.
    window = TimeRange(now - timedelta(minutes=2), now + timedelta(minutes=2))
    series = await get_candles(CandleQuery(SUPPORTED_SYMBOLS[0], Interval.parse("1m"), window))
    msgspec.json.encode(candles_response(series, Fill.NONE))


async def warm_up(container: Container, timeout_seconds: float) -> None:
    """Best effort, bounded: a database that is down or frozen must not hold up the start."""
    task = asyncio.create_task(warm_read_path(container), name="warm-up")
    done, _ = await asyncio.wait({task}, timeout=timeout_seconds)
    if not done:
        task.cancel()  # not awaited: a query on a frozen server may not answer its cancellation
        log.info("read path not warmed within %gs; the first requests will warm it", timeout_seconds)
    elif task.exception() is not None:
        log.info("read path not warmed: %s", type(task.exception()).__name__)
