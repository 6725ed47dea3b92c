"""Database URLs: accept what users paste, hand SQLAlchemy the psycopg 3 dialect."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def sync_url(url: str) -> str:
    """The URL with the psycopg 3 driver, whatever scheme it came with."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The URL as plain libpq understands it (for raw psycopg connections)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL safe to print: password hidden."""
    return make_url(url).render_as_string(hide_password=True)


TCP_KEEPALIVE: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
"""libpq options for every connection: a peer that vanished (host down, network cut) is noticed in
about 11 s, not the kernel's two hours, and a write nobody acknowledges fails after 10 s. A
frozen server on a live host still acknowledges at the TCP level: request deadlines cover that."""


def pooled_connection_options(
    connect_timeout_seconds: int, statement_timeout_ms: int, application_name: str
) -> dict[str, object]:
    """libpq options of a pooled connection: bounded connect and statements, UTC sessions, keepalives."""
    return {
        "connect_timeout": connect_timeout_seconds,
        "application_name": application_name,
        "options": f"-c statement_timeout={statement_timeout_ms} -c timezone=UTC",
        **TCP_KEEPALIVE,
    }
