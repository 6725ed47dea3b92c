"""GET /candles/stream: every committed change of the subscribed candles as Server-Sent Events, resumable by id."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import Parameter
from litestar.response import Stream

from application.candle_feed import CandleFeed
from domain.candles import INTERVAL_NAMES, Interval
from domain.changes import CandleChange, ChangeFilter
from domain.errors import InvalidValue, UnknownSymbol
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.http.openapi import problem_responses
from entrypoints.settings import Settings
from market_data_client.contract import CandleEvent, CandleOut, RemovedEvent

STREAMED = tuple(name for name in INTERVAL_NAMES if name != "1s")
RETRY_MS = 2000
"""How long a client waits before it reconnects (the `retry:` hint sent on connect)."""


_ENCODER = msgspec.json.Encoder()


def parse_symbols(raw: str | None) -> frozenset[str]:
    if raw is None or raw.strip() == "":
        return frozenset(SUPPORTED_SYMBOLS)
    names = [part.strip() for part in raw.split(",")]
    for name in names:
        if name not in SUPPORTED_SYMBOLS:
            raise UnknownSymbol(name, SUPPORTED_SYMBOLS)
    return frozenset(names)


def parse_stream_interval(raw: str) -> Interval:
    interval = Interval.parse(raw)
    if interval.name not in STREAMED:
        raise InvalidValue(
            "interval", raw, f"one of {', '.join(STREAMED)}: 1s candles are not stored, so they are not streamed"
        )
    return interval


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    raw = header if header is not None else query
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidValue("last_event_id", raw, "the id of an event this stream sent (a non-negative integer)")
    return int(raw)


def encode_change(change: CandleChange) -> bytes:
    """The SSE frame of a change; encoded once per change, however many streams send it."""
    frame = _FRAMES.get(change.seq)
    if frame is None:
        frame = _frame(change)
        _FRAMES[change.seq] = frame
        if len(_FRAMES) > _FRAMES_KEPT:
            _FRAMES.popitem(last=False)
    return frame


_FRAMES: OrderedDict[int, bytes] = OrderedDict()
_FRAMES_KEPT = 20_000


def _frame(change: CandleChange) -> bytes:
    b = change.bar
    if b is None:
        gone = RemovedEvent(change.symbol, change.interval, change.start, change.end)
        return b"id: %d\nevent: removed\ndata: %s\n\n" % (change.seq, _ENCODER.encode(gone))
    candle = CandleOut(
        b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.trade_count, b.vwap, change.complete, b.filled
    )
    data = _ENCODER.encode(CandleEvent(change.symbol, change.interval, candle))
    return b"id: %d\nevent: candle\ndata: %s\n\n" % (change.seq, data)


def control(event: str, seq: int) -> bytes:
    return b"id: %d\nevent: %s\ndata: {}\n\n" % (seq, event.encode())


HELLO = b": candles\nretry: %d\n\n" % RETRY_MS
KEEPALIVE = b": keepalive\n\n"


async def events(feed: CandleFeed, wanted: ChangeFilter, after: int | None, keepalive: float) -> AsyncIterator[bytes]:
    """Backlog after `after` (if given), then live changes; never a gap, never a duplicate. Whatever is queued
    is sent in one write.

    It subscribes when the response starts to send (not in the handler): a client gone before that leaves
    no subscription behind."""
    sub = feed.subscribe(wanted)
    try:
        last = sub.start
        yield HELLO
        if after is not None:
            if after < await feed.horizon():
                yield control("reset", sub.start)
            else:
                async for change in feed.backlog(sub.wanted, after, sub.start):
                    yield encode_change(change)
            last = max(after, sub.start)
        while True:
            if sub.overflowed:
                yield control("overflow", last)
                return
            if sub.closed:
                return
            try:
                item = await asyncio.wait_for(sub.queue.get(), keepalive)
            except TimeoutError:
                yield KEEPALIVE
                continue
            frames = []
            while item is not None or not sub.queue.empty():
                if item is not None and item.seq > last:
                    last = item.seq
                    frames.append(encode_change(item))
                item = sub.queue.get_nowait() if not sub.queue.empty() else None
            if frames:
                yield b"".join(frames)
    finally:
        feed.unsubscribe(sub)


@get(
    "/candles/stream",
    summary="Live candles as Server-Sent Events, resumable with Last-Event-ID",
    description=(
        "One `event: candle` per committed change of a candle of the chosen symbols and interval, in commit order; "
        "its data is {symbol, interval, candle} where candle has exactly the fields of /candles. When the "
        "ingestion watermark passes a bucket's end, the final state is sent once more with complete: true. Every "
        "event has an id (the platform's change sequence, the same on every replica): reconnect with "
        "Last-Event-ID (or ?last_event_id=) to get every change after it, then live ones. `event: reset` means "
        "the id is older than what is retained: reload from /candles. `event: overflow` means this client fell "
        "behind and is disconnected: resume with Last-Event-ID. A comment line at least every 15 s keeps the "
        "stream open."
    ),
    responses=problem_responses(400, 503),
    media_type="text/event-stream",
)
async def stream_candles(
    request: Request[Any, Any, Any],
    candle_feed: NamedDependency[CandleFeed],
    settings: NamedDependency[Settings],
    symbol: Annotated[str | None, Parameter(description="Supported symbols, comma-separated (default: all)")] = None,
    interval: Annotated[
        str, Parameter(description=f"One of {', '.join(STREAMED)} (default 1m)", schema_extra={"enum": list(STREAMED)})
    ] = "1m",
    last_event_id: Annotated[
        str | None, Parameter(description="Resume after this event id (the Last-Event-ID header wins)")
    ] = None,
) -> Stream:
    wanted = ChangeFilter(parse_symbols(symbol), parse_stream_interval(interval).name)
    after = parse_last_event_id(request.headers.get("last-event-id"), last_event_id)
    if candle_feed.position is None:
        # Not yet following the change log (the database was not reachable since start): a stream
        # opened now could not say where it starts.
        raise ServiceUnavailableException(detail="the live feed is not connected to the database yet; retry shortly")
    if candle_feed.streams >= settings.stream_max_clients:
        raise ServiceUnavailableException(
            detail=f"this process already serves {settings.stream_max_clients} streams; retry shortly or elsewhere"
        )
    return Stream(
        events(candle_feed, wanted, after, settings.stream_keepalive_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
