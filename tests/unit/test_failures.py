"""One way to tell a failure: its type and the first line of its message, bounded."""

from __future__ import annotations

from application.failures import describe


def test_only_the_first_line_of_the_message_with_the_type() -> None:
    error = ConnectionError("connection refused\nHINT: is the server running?\nDETAIL: more")
    assert describe(error) == "ConnectionError: connection refused"


def test_an_empty_message_is_the_type_alone_and_a_long_one_is_cut() -> None:
    assert describe(TimeoutError()) == "TimeoutError:"
    assert describe(ValueError("x" * 1000), limit=50) == "ValueError: " + "x" * 38
