"""One call in flight at a time, shared by its callers, each of whom waits no longer than its own deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Bounds how long a caller waits without cancelling the call it gave up on.

    `asyncio.timeout` around a query is not enough when the server hangs: the
    driver reacts to the cancellation by asking the server to cancel the query
    and waits for that too. Here the call runs as a task of its own; a caller
    past its deadline gets TimeoutError at once, the task goes on, and the next
    caller joins it instead of opening another connection. A call older than
    `abandon_after` seconds is cancelled (it cleans up in the background) and a
    fresh one started, so a connection lost without a word is not waited on forever.

    Why application, though it is asyncio plumbing and not a use case: sharing
    one read and answering within a deadline is `GetIngestionStatus`'s own rule
    (its unit tests check it against fakes), and this needs only the standard
    library, which application may import. In adapters the use case could not
    reach it (layers point inwards); behind a port the rule would leave the use
    case for an adapter; the domain holds values and pure rules, not tasks. The
    Postgres health probe uses it too, as adapters may import application.
    """

    def __init__(self, call: Callable[[], Awaitable[T]], abandon_after: float) -> None:
        self._call = call
        self._abandon_after = abandon_after
        self._task: asyncio.Future[T] | None = None
        self._started = 0.0

    async def __call__(self, deadline: float) -> T:
        task = self._current()
        done, _ = await asyncio.wait({task}, timeout=deadline)
        if not done:
            raise TimeoutError(f"no answer within {deadline:g}s")
        if self._task is task:
            self._task = None
        if task.cancelled():
            # Abandoned by a later caller (see _current) while we waited: for us that is no answer,
            # not a cancellation of our own (a CancelledError here escaped as a bare 500).
            raise TimeoutError(f"no answer within {deadline:g}s")
        return task.result()

    def _current(self) -> asyncio.Future[T]:
        now = asyncio.get_running_loop().time()
        if self._task is not None and not self._task.done():
            if now - self._started <= self._abandon_after:
                return self._task
            self._task.cancel()
        self._task = asyncio.ensure_future(self._call())
        self._task.add_done_callback(_retrieve)
        self._started = now
        return self._task


def _retrieve(task: asyncio.Future[Any]) -> None:
    # A call whose callers all gave up still ends; its outcome is read here so
    # that asyncio does not log "exception was never retrieved".
    if not task.cancelled():
        task.exception()
