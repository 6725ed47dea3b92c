"""Whether an endpoint is busy: counted per whole second, cheap enough to count every request."""

from __future__ import annotations

import time
from collections.abc import Callable


class Demand:
    """Counts requests in the current and the previous whole second (cheap enough for every request)."""

    def __init__(self, busy_per_second: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._threshold = busy_per_second
        self._monotonic = monotonic
        self._second = -1
        self._current = 0
        self._previous = 0

    def busy(self) -> bool:
        """Counts this request; True when the last second or the current one had more than the threshold."""
        second = int(self._monotonic())
        if second != self._second:
            self._previous = self._current if second == self._second + 1 else 0
            self._second, self._current = second, 0
        self._current += 1
        return max(self._current, self._previous) > self._threshold
