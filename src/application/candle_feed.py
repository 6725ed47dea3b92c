"""The live candle feed of one process: follows the shared change log and fans changes out to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from domain.changes import CandleChange, ChangeFilter

log = logging.getLogger("mdp.stream")
PAGE = 1000
"""Changes read per query, catching up or resuming."""


class ChangeLog(Protocol):
    """The committed candle changes, in commit order, shared by every replica."""

    async def position(self) -> int:
        """The sequence number of the newest committed change (0 when there is none)."""

    async def since(self, after: int, limit: int) -> Sequence[CandleChange]:
        """Up to `limit` committed changes with seq > `after`, in order: the feed's own reads."""

    async def history(self, after: int, limit: int, wanted: ChangeFilter) -> Sequence[CandleChange]:
        """The same for one stream resuming, only the changes it wants (a client may go away mid-read)."""

    async def horizon(self) -> int:
        """Changes up to this seq were pruned: a resume from before it cannot be served."""


class ChangeNotices(Protocol):
    """A dedicated connection that is told when changes commit (PostgreSQL LISTEN)."""

    def open(self) -> contextlib.AbstractAsyncContextManager[NoticeWait]: ...


class NoticeWait(Protocol):
    async def wait(self, timeout: float) -> None:
        """Return on a notice or after `timeout`; raise when the connection is lost."""


@dataclass(eq=False)
class Subscription:
    """One stream's view of the feed: a bounded queue of the changes it wants, after `start`."""

    wanted: ChangeFilter
    start: int
    queue: asyncio.Queue[CandleChange | None]
    overflowed: bool = False
    closed: bool = field(default=False)

    def offer(self, change: CandleChange) -> None:
        if self.overflowed or self.closed:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            # The consumer cannot keep up: it is told so and resumes with Last-Event-ID.
            self.overflowed = True
            self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class CandleFeed:
    """Follows the change log: on every notice (and every `poll_seconds` regardless), reads the changes after
    the last one it delivered and offers each to the subscribers that want it. A lost LISTEN connection is
    reopened and the feed catches up from its position, so nothing committed is ever skipped."""

    def __init__(
        self, changes: ChangeLog, notices: ChangeNotices, queue_size: int = 1000, poll_seconds: float = 5.0
    ) -> None:
        self._changes = changes
        self._notices = notices
        self._queue_size = queue_size
        self._poll = poll_seconds
        self._subscribers: set[Subscription] = set()
        self.position: int | None = None
        self.positioned = asyncio.Event()
        """Set once the feed knows where the log stands: streams can start from there."""
        self.connected = False
        self._closing = False

    @property
    def streams(self) -> int:
        return len(self._subscribers)

    def subscribe(self, wanted: ChangeFilter) -> Subscription:
        """Changes after the feed's current position go to the subscription's queue."""
        sub = Subscription(wanted, self.position or 0, asyncio.Queue(self._queue_size))
        if self._closing:
            sub.close()
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def close(self) -> None:
        """Shutting down: every open stream ends now."""
        self._closing = True
        for sub in list(self._subscribers):
            sub.close()

    async def run(self, stop: asyncio.Event, max_backoff: float = 5.0) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                async with self._notices.open() as notices:
                    self.connected = True
                    await self._catch_up()
                    backoff = 0.2
                    while not stop.is_set():
                        await notices.wait(self._poll)
                        await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "candle feed lost its connection (%s); catching up after %.1fs", type(error).__name__, backoff
                )
            finally:
                self.connected = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(max_backoff, backoff * 2)

    async def _catch_up(self) -> None:
        if self.position is None:
            self.position = await self._changes.position()
            self.positioned.set()
            return
        while True:
            changes = await self._changes.since(self.position, PAGE)
            for change in changes:
                for sub in list(self._subscribers):
                    if sub.wanted.wants(change):
                        sub.offer(change)
            if changes:
                self.position = changes[-1].seq
            if len(changes) < PAGE:
                return

    async def backlog(self, wanted: ChangeFilter, after: int, upto: int) -> AsyncIterator[CandleChange]:
        """The wanted changes in `(after, upto]`, read page by page from the log."""
        while after < upto:
            page = [c for c in await self._changes.history(after, PAGE, wanted) if c.seq <= upto]
            for change in page:
                yield change
            if len(page) < PAGE:
                return
            after = page[-1].seq

    async def horizon(self) -> int:
        return await self._changes.horizon()
