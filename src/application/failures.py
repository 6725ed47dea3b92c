"""How a failure is told to operators: its type and the first line of its message, bounded."""

from __future__ import annotations

DEFAULT_LIMIT = 300


def describe(error: BaseException, limit: int = DEFAULT_LIMIT) -> str:
    """`Type: first line` of the error, at most `limit` characters.

    Drivers add hints, links and context on further lines; an operator (and a
    status page) needs the first. One function, so every place says it the same way.
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(error).__name__}: {first}".strip()[:limit]
