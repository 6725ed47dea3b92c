"""How a failure is told to operators: its type and the first line of its message, bounded."""

from __future__ import annotations

import re

DEFAULT_LIMIT = 300

# What a driver message may say about where the database is and who connects to it.
_REDACTIONS = (
    (
        re.compile(r'connection to server (?:at "[^"]*"(?: \([^)]*\))?, port \d+|on socket "[^"]*")'),
        "connection to the database",
    ),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<url>"),
    (re.compile(r'\b(user|role|database) "[^"]*"'), r'\1 "…"'),
    (re.compile(r"\b(host|hostaddr|port|user|dbname)=\S+"), r"\1=…"),
)


def describe(error: BaseException, limit: int = DEFAULT_LIMIT, *, redact: bool = True) -> str:
    """`Type: first line` of the error, at most `limit` characters.

    Drivers add hints, links and context on further lines; an operator (and a
    status page) needs the first. One function, so every place says it the same way.
    The text is public by default (status pages, /metrics), so hosts, ports, user,
    role and database names are redacted; logs pass `redact=False` for the full line.
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    if redact:
        for pattern, replacement in _REDACTIONS:
            first = pattern.sub(replacement, first)
    return f"{type(error).__name__}: {first}".strip()[:limit]
