"""One way to tell a failure: its type and the first line of its message, bounded."""

from __future__ import annotations

from application.failures import describe


def test_only_the_first_line_of_the_message_with_the_type() -> None:
    error = ConnectionError("connection refused\nHINT: is the server running?\nDETAIL: more")
    assert describe(error) == "ConnectionError: connection refused"


def test_an_empty_message_is_the_type_alone_and_a_long_one_is_cut() -> None:
    assert describe(TimeoutError()) == "TimeoutError:"
    assert describe(ValueError("x" * 1000), limit=50) == "ValueError: " + "x" * 38


def test_hosts_ports_and_names_are_redacted_unless_asked_for_in_full() -> None:
    error = ConnectionError(
        'connection failed: connection to server at "127.0.0.1", port 38565 failed: '
        'FATAL:  password authentication failed for user "bob"'
    )
    public = describe(error)
    assert public == (
        "ConnectionError: connection failed: connection to the database failed: "
        'FATAL:  password authentication failed for user "…"'
    )
    assert "38565" in describe(error, redact=False) and "bob" in describe(error, redact=False)


def test_urls_and_socket_paths_are_redacted() -> None:
    error = OSError('postgresql://me:pw@db.internal:5432/x: connection to server on socket "/tmp/.s.PGSQL.5432" failed')
    assert describe(error) == "OSError: <url> connection to the database failed"
