"""Answers that change at most once a second, computed once per period and shared by every caller meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SharedAnswers:
    """A tiny time-boxed cache: a hit is at most `ttl` seconds old; on a miss, concurrent callers share
    one computation. A failed computation is not kept, so the next caller tries again."""

    def __init__(self, ttl_seconds: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        hit = self._values.get(key)
        if hit is not None and self._monotonic() < hit[0]:
            return hit[1]  # type: ignore[no-any-return]
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(compute())
            pending.add_done_callback(lambda done: self._settle(key, done))
        # Shielded: a caller that goes away must not cancel the computation the others wait for.
        return await asyncio.shield(pending)

    def _settle(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            self._values[key] = (self._monotonic() + self._ttl, done.result())
