"""The request head scanner: where a head ends, which limit it breaks, however the network splits it; its limits."""

from __future__ import annotations

import pickle

import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.protocol import BoundedHttpToolsProtocol, server_options
from entrypoints.http.request_head import HeadLimits, HeadRefused, HeadScanner
from entrypoints.settings import load_settings
from tests.strategies import request_heads, splits

SMALL = HeadLimits(request_line_bytes=64, header_bytes=30, headers_bytes=100, headers=6)
"""Limits the generated heads cross often, on every side."""
AFTER = b"GET /next HTTP/1.1\r\n"
"""What follows a head on the connection (a pipelined request, or a body): never the scanner's."""

Verdict = int | tuple[int, str]
"""Where the head ends, or the status and detail it is refused with."""


def scan(data: bytes, cuts: list[int], limits: HeadLimits = SMALL) -> Verdict:
    """Feed `data` cut at `cuts`, as reads from a socket; offsets are of the whole of `data`."""
    scanner, start = HeadScanner(limits), 0
    try:
        for stop in [*cuts, len(data)]:
            end = scanner.scan(data[start:stop])
            if end is not None:
                return start + end
            start = max(start, stop)
    except HeadRefused as refused:
        return (refused.status, refused.detail)
    raise AssertionError("the data ended inside the head")


def expected(head: bytes, limits: HeadLimits = SMALL) -> int:
    """The verdict's status (or the head's length), from the whole head split into its lines."""
    lines = head.split(b"\r\n")
    skipped = 0
    while lines[0] == b"":
        lines.pop(0)
        skipped += 2
    request_line, headers = lines[0], lines[1:-2]  # the head ends with an empty line, then nothing
    if skipped + len(request_line) > limits.request_line_bytes:
        return 414
    section = sum(len(line) + 2 for line in headers) + 2
    if any(len(line) > limits.header_bytes for line in headers):
        return 431
    if section > limits.headers_bytes or len(headers) > limits.headers:
        return 431
    return len(head)


@given(request_heads(), st.data())
def test_the_verdict_is_the_same_however_the_head_is_split(head: bytes, data: st.DataObject) -> None:
    whole = scan(head + AFTER, [])
    assert scan(head + AFTER, data.draw(splits(len(head + AFTER)))) == whole
    assert scan(head + AFTER, list(range(len(head + AFTER)))) == whole  # byte by byte


@given(request_heads())
def test_a_head_ends_after_its_blank_line_or_is_refused_by_the_limit_it_breaks(head: bytes) -> None:
    verdict = scan(head + AFTER, [])
    assert (verdict if isinstance(verdict, int) else verdict[0]) == expected(head)


def header_lines(*sizes: int) -> bytes:
    return b"".join(b"X: " + b"v" * (size - 3) + b"\r\n" for size in sizes)


@pytest.mark.parametrize(
    ("head", "verdict"),
    [
        (b"GET /" + b"a" * 8178 + b" HTTP/1.1\r\n\r\n", 8196),  # a request line of exactly 8,192 bytes
        (b"GET /" + b"a" * 8179 + b" HTTP/1.1\r\n\r\n", (414, "the request line is longer than 8,192 bytes")),
        (b"GET / HTTP/1.1\r\n" + header_lines(16_384) + b"\r\n", 16 + 16_386 + 2),
        (b"GET / HTTP/1.1\r\n" + header_lines(16_385) + b"\r\n", (431, "a header line is longer than 16,384 bytes")),
        (b"GET / HTTP/1.1\r\n" + header_lines(*[10] * 100) + b"\r\n", 16 + 1200 + 2),
        (b"GET / HTTP/1.1\r\n" + header_lines(*[10] * 101) + b"\r\n", (431, "more than 100 header lines")),
        (
            b"GET / HTTP/1.1\r\n" + header_lines(*[700] * 99) + b"\r\n",
            (431, "the header lines are longer than 65,536 bytes in all"),
        ),
    ],
    ids=["line-at-limit", "line-over", "header-at-limit", "header-over", "100-headers", "101-headers", "70-KiB"],
)
def test_the_default_limits(head: bytes, verdict: Verdict) -> None:
    assert scan(head + AFTER, [], HeadLimits()) == verdict


def test_a_huge_header_is_refused_at_the_first_read_past_the_limit_not_at_its_end() -> None:
    scanner = HeadScanner(HeadLimits())
    assert scanner.scan(b"GET / HTTP/1.1\r\nHost: x\r\nX: ") is None
    piece = b"v" * 65_536
    with pytest.raises(HeadRefused) as refused:
        for _ in range(16):  # 1 MiB, in the reads a socket would give
            scanner.scan(piece)
    assert refused.value.status == 431
    assert scanner.received < 16_384 + 65_536 + 64  # counted, never kept


def test_a_line_end_split_between_reads_still_ends_the_head() -> None:
    scanner = HeadScanner(HeadLimits())
    assert scanner.scan(b"GET / HTTP/1.1\r\nHost: x\r\n\r") is None
    assert scanner.scan(b"\nGET") == 1


def test_a_started_scanner_counts_the_next_head_from_nothing() -> None:
    scanner = HeadScanner(SMALL)
    head = b"GET / HTTP/1.1\r\n" + header_lines(*[20] * 4) + b"\r\n"
    assert scanner.scan(head) == len(head)
    scanner.start()
    assert scanner.received == 0
    assert scanner.scan(head) == len(head)


def test_server_options_carry_the_limits_through_a_pickled_config() -> None:
    settings = load_settings(
        {
            "HTTP_MAX_REQUEST_LINE_BYTES": "4096",
            "HTTP_MAX_HEADER_BYTES": "2048",
            "HTTP_MAX_HEADERS_BYTES": "8192",
            "HTTP_MAX_HEADERS": "20",
            "HTTP_HEADER_TIMEOUT_SECONDS": "2.5",
        }
    )
    # uvicorn pickles the Config into each worker process it spawns.
    config = pickle.loads(pickle.dumps(uvicorn.Config("entrypoints.http.app:create_app", **server_options(settings))))
    assert config.http.func is BoundedHttpToolsProtocol
    assert config.http.keywords["limits"] == HeadLimits(4096, 2048, 8192, 20, 2.5)
    assert config.timeout_keep_alive == 5
    assert config.h11_max_incomplete_event_size == 4096 + 8192
