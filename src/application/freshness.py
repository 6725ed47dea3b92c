"""Use case: how fresh the stored data is, by the one freshness rule."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from domain.freshness import Freshness, assess_freshness


class GetFreshness:
    """Reads the shared heartbeat and judges it against the stale threshold."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, interval_seconds: float) -> None:
        self._uow = uow
        self._clock = clock
        self._interval = interval_seconds

    async def __call__(self) -> Freshness:
        async with self._uow() as uow:
            heartbeat = await uow.heartbeat.get()
        return assess_freshness(heartbeat, self._clock.now(), self._interval)
