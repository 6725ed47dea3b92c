"""Bounded input against the real service process over raw sockets: limits, parser errors and slow heads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import msgspec
import pytest

from market_data_client.contract import Problem
from tests.integration.processes import ServiceProcess, wait_until

pytestmark = pytest.mark.processes

HEADER_TIMEOUT = 1
"""Seconds; short, so a stalled head is answered soon. Nothing here asserts how long anything took."""
RANGE = "start=2026-01-01T00:00:00Z&end=2026-01-01T01:00:00Z"
HOST = b"Host: 127.0.0.1\r\n"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def problem(self) -> Problem:
        assert self.headers["content-type"] == "application/problem+json"
        return msgspec.json.decode(self.body, type=Problem)


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[ServiceProcess]:
    settings = {
        "DATABASE_URL": database_url,
        "MIGRATE_ON_START": "false",
        "DB_POOL_SIZE": "2",
        "HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
    }
    with ServiceProcess(settings, args=("-m", "entrypoints", "api")) as process:
        wait_until(process.ready, process)
        yield process


@pytest.fixture(autouse=True)
def still_serving(service: ServiceProcess) -> Iterator[None]:
    """After every abuse, the server answers a normal request on a new connection."""
    yield
    assert service.get("/health").status_code == 200
    assert service.alive()


def exchange(service: ServiceProcess, raw: bytes) -> list[Answer]:
    """Send `raw` on a new connection, then read until the server closes it."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as conn:
        conn.sendall(raw)
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
    return answers(bytes(received))


def answers(data: bytes) -> list[Answer]:
    """The responses in `data`, each framed by its Content-Length."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        size = int(headers.get("content-length", "0"))
        found.append(Answer(int(status_line.split()[1]), headers, rest[:size]))
        data = rest[size:]
    return found


def refused(answer: Answer, status: int) -> Problem:
    """The answer is a closing problem+json refusal with this status, shaped like the app's problems."""
    assert answer.status == status
    assert answer.headers["connection"] == "close"
    assert answer.headers["x-content-type-options"] == "nosniff"
    problem = answer.problem
    assert problem.status == status and problem.title and problem.detail and problem.invalid_params == []
    return problem


def get(target: bytes, *headers: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"".join(headers) + b"\r\n"


def test_a_9_kib_url_is_414(service: ServiceProcess) -> None:
    (answer,) = exchange(service, get(b"/candles?symbol=" + b"A" * 9216))
    assert refused(answer, 414).detail == "the request line is longer than 8,192 bytes"


def test_a_17_kib_header_is_431(service: ServiceProcess) -> None:
    (answer,) = exchange(service, get(b"/health", b"X-Big: " + b"v" * 17_408 + b"\r\n"))
    assert refused(answer, 431).detail == "a header line is longer than 16,384 bytes"


def test_101_headers_are_431(service: ServiceProcess) -> None:
    (answer,) = exchange(service, get(b"/health", *(b"X-%d: 1\r\n" % i for i in range(101))))
    assert refused(answer, 431).detail == "more than 100 header lines"


def test_70_kib_of_headers_in_many_small_ones_is_431(service: ServiceProcess) -> None:
    (answer,) = exchange(service, get(b"/health", *(b"X-%d: %s\r\n" % (i, b"v" * 716) for i in range(99))))
    assert refused(answer, 431).detail == "the header lines are longer than 65,536 bytes in all"


def test_a_1_mib_header_gets_its_answer_not_a_reset(service: ServiceProcess) -> None:
    # The server refuses after the first 16 KiB and must drain the rest: closing on unread bytes resets the
    # connection, and the client would lose the 431 with it.
    (answer,) = exchange(service, get(b"/health", b"X-Big: " + b"v" * (1 << 20) + b"\r\n"))
    refused(answer, 431)


@pytest.mark.parametrize(
    ("request_line", "reason"),
    [
        (b"GET /health\x00 HTTP/1.1", "Invalid char in url path"),
        (b"GET /candles?symbol=\xc3\xa9 HTTP/1.1", "Invalid char in url"),
        (b"GET /health HTTP/1.1 junk", "Expected CRLF after version"),
        (b"G\x00T /health HTTP/1.1", "Invalid method encountered"),
    ],
    ids=["nul-in-path", "non-ascii", "junk-after-version", "nul-in-method"],
)
def test_what_the_parser_refuses_is_a_problem_json_400(
    service: ServiceProcess, request_line: bytes, reason: str
) -> None:
    (answer,) = exchange(service, request_line + b"\r\n" + HOST + b"\r\n")
    assert refused(answer, 400).detail.startswith(f"the request is not valid HTTP/1.1: {reason}")


def test_a_head_that_stalls_is_answered_408_after_the_header_timeout(service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as conn:
        conn.sendall(b"GET /hea")  # half a request line, then nothing
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
    (answer,) = answers(bytes(received))
    assert refused(answer, 408).detail == f"the request head did not arrive within {HEADER_TIMEOUT} s"


def test_the_header_timeout_starts_again_with_each_request_of_a_kept_alive_connection(service: ServiceProcess) -> None:
    first, second = exchange(service, get(b"/health") + b"GET /hea")
    assert first.status == 200
    refused(second, 408)


def test_a_connection_that_never_sends_anything_is_closed_without_an_answer(service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as conn:
        assert conn.recv(65536) == b""


def test_limits_hold_for_every_request_of_a_kept_alive_connection(service: ServiceProcess) -> None:
    first, second = exchange(service, get(b"/health") + get(b"/health", b"X-Big: " + b"v" * 17_408 + b"\r\n"))
    assert first.status == 200 and first.body == b'{"status":"ok"}'
    refused(second, 431)  # answered after the response before it, in order


def test_a_request_with_a_body_is_the_last_of_its_connection(service: ServiceProcess) -> None:
    # The parser alone knows where a body ends, so nothing pipelined behind it reaches the app uncounted.
    body_then_more = b"POST /health HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n\r\nabc" + get(b"/health")
    (answer,) = exchange(service, body_then_more)
    assert answer.status == 405
    assert answer.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/candles?symbol=AAPL&symbol=MSFT&interval=1m&{RANGE}", "symbol"),
        (f"/trades?symbol=AAPL&limit=1&limit=2&{RANGE}", "limit"),
        ("/candles/stream?symbol=AAPL,MSFT&symbol=TSLA", "symbol"),
    ],
)
def test_a_single_valued_parameter_given_twice_is_a_400_naming_it(
    service: ServiceProcess, path: str, name: str
) -> None:
    response = service.get(path)
    assert response.status_code == 400
    problem = msgspec.json.decode(response.content, type=Problem)
    assert [param.name for param in problem.invalid_params] == [name]


def test_the_stream_takes_several_symbols_in_one_parameter(service: ServiceProcess) -> None:
    with httpx.stream("GET", f"{service.base_url}/candles/stream?symbol=AAPL,MSFT", timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")


def test_error_details_quote_at_most_200_characters_of_an_input(service: ServiceProcess) -> None:
    response = service.get(f"/candles?symbol=AAPL&interval=1m&start={'9' * 4000}x&end=2026-01-01T00:00:00Z")
    problem = msgspec.json.decode(response.content, type=Problem)
    assert response.status_code == 400 and "…(4001 characters)" in problem.detail
    assert len(response.content) < 1000
    stream = httpx.get(f"{service.base_url}/candles/stream", headers={"Last-Event-ID": "7" * 8192}, timeout=10)
    assert stream.status_code == 400 and "…(8192 characters)" in stream.json()["detail"]
    assert len(stream.content) < 1000
