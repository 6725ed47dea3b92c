"""Answers of the API kept for a moment and shared by concurrent callers, calls in flight included."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AnswerCache(Generic[K, V]):
    """Each key's answer is kept `ttl_seconds` after it arrived, and shared while its call is in flight.

    A caller that finds its key's call in flight waits for that call instead of making
    another (single flight), and one that finds an answer younger than the TTL takes it:
    N concurrent dashboard renders make one call per URL, not N. The answer is whatever
    the call returned, failures-as-values included, so a failure is kept exactly as long as
    an answer and never longer; a call that raises is not kept at all. A caller that is
    cancelled (its client went away) does not cancel the call the others wait for.
    `ttl_seconds <= 0` keeps and shares nothing: every caller makes its own call.
    """

    def __init__(self, ttl_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._now = now
        self._entries: dict[K, _Entry[V]] = {}

    async def get(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        if self._ttl <= 0:
            return await call()
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._now():
            entry = self._start(key, call)
        return await asyncio.shield(entry.task)

    def _start(self, key: K, call: Callable[[], Awaitable[V]]) -> _Entry[V]:
        now = self._now()
        # Old keys (last minute's candle ranges) go as new ones come: the map stays small.
        for old in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[old]
        entry = _Entry(asyncio.ensure_future(call()))
        self._entries[key] = entry

        def arrived(task: asyncio.Future[V]) -> None:
            if task.cancelled() or task.exception() is not None:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            else:
                entry.expires_at = self._now() + self._ttl

        entry.task.add_done_callback(arrived)
        return entry


class _Entry(Generic[V]):
    __slots__ = ("expires_at", "task")

    def __init__(self, task: asyncio.Future[V]) -> None:
        self.task = task
        self.expires_at = math.inf  # in flight: shared until its answer arrives
