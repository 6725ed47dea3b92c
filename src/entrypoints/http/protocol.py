"""uvicorn's httptools protocol with bounded request heads: 414, 431, 408 and 400 as problem+json, memory flat."""

from __future__ import annotations

import asyncio
import enum
import functools
import http
import logging
import sys
from typing import Any, cast

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from entrypoints.http.coalescing import CoalescingTransport
from entrypoints.http.openapi import PROBLEM_JSON
from entrypoints.http.request_head import HeadLimits, HeadRefused, HeadScanner
from entrypoints.settings import Settings
from market_data_client.contract import Problem

log = logging.getLogger("mdp.http")
KEEP_ALIVE_SECONDS = 5
"""uvicorn's default: an idle keep-alive connection is closed after this long."""
DEFAULT_LIMITS = HeadLimits()
"""The limits when uvicorn is given the class itself, not server_options' partial."""
LINGER_SECONDS = 2.0
"""How long a refused connection is still read (and its bytes dropped) after the answer, before it closes."""
TITLES = {414: "URI Too Long"}
"""RFC 9110's reason phrases where Python's differ (it still says Request-URI Too Long)."""


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.Config keywords that bound every request head (docs/security.md, Limits)."""
    limits = HeadLimits(
        request_line_bytes=settings.http_max_request_line_bytes,
        header_bytes=settings.http_max_header_bytes,
        headers_bytes=settings.http_max_headers_bytes,
        headers=settings.http_max_headers,
        timeout_seconds=settings.http_header_timeout_seconds,
    )
    return {
        # uvicorn.Config takes no keywords of ours, so the limits travel bound to the protocol class:
        # the partial is part of the Config and pickles with it when uvicorn spawns worker processes.
        "http": functools.partial(BoundedHttpToolsProtocol, limits=limits),
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # Used only if someone serves with http="h11": its one bound on a buffered head (plain-text 400).
        "h11_max_incomplete_event_size": limits.request_line_bytes + limits.headers_bytes,
    }


class _Reading(enum.Enum):
    HEAD = "head"  # the scanner counts each byte before the parser sees it
    BODY = "body"  # the parser frames a request body; the connection ends after this request
    NOTHING = "nothing"  # the connection ends after the response in progress; bytes are dropped


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes of each request head before the parser buffers them and refuses what breaks a limit.

    httptools (llhttp) keeps no limit of its own: it would grow a 64 MiB header in memory, and uvicorn waits
    forever for a head that never ends. Refusals and parser errors are answered with problem+json, then the
    connection is closed.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head = HeadScanner(limits)
        self._reading = _Reading.HEAD
        self._head_timer: asyncio.TimerHandle | None = None
        self._message_complete = False
        self._answer_later: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, CoalescingTransport(transport, self.loop)))
        self._arm_head_timer()  # a connection that never sends a whole head is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        while data and self._reading is not _Reading.NOTHING and self._ours():
            if self._reading is _Reading.BODY:
                super().data_received(data)
                return
            data = self._read_head(data)

    def _read_head(self, data: bytes) -> bytes:
        """Let through what belongs to the head being read, if it keeps the limits; return what follows it."""
        if self._head_timer is None:
            self._arm_head_timer()
        try:
            end = self._head.scan(data)
        except HeadRefused as refused:
            self._refuse(refused.status, refused.detail)
            return b""
        if end is None:
            super().data_received(data)
            return b""
        self._cancel_head_timer()
        self._message_complete = False
        super().data_received(data[:end])
        self._head.start()
        if not self._message_complete and self._ours() and self.cycle is not None:
            # A body follows. Only the parser knows where it ends, so a request pipelined behind it in
            # the same read would reach the parser uncounted: this request is the connection's last.
            self.cycle.keep_alive = False
            self._reading = _Reading.BODY
        return data[end:]

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._message_complete = True
        if self._reading is _Reading.BODY:
            self._reading = _Reading.NOTHING

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._answer_later is not None and not self._busy() and not self.transport.is_closing():
            self._answer_and_close(self._answer_later)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this inside its `except httptools.HttpParserError`: the parser's reason (a fixed
        # text of llhttp's, such as "Invalid char in url path") is the exception being handled.
        error = sys.exc_info()[1]
        self._refuse(400, "the request is not valid HTTP/1.1" + (f": {error}" if error is not None else ""))

    def _refuse(self, status: int, detail: str) -> None:
        """Answer problem+json and close: now, or after the responses to the requests before it."""
        self._cancel_head_timer()
        self._reading = _Reading.NOTHING
        log.info("refused a request from %s: %d, %s", self.client, status, detail)
        answer = problem_bytes(status, detail, self.server_state.default_headers)
        if self._busy():
            self._answer_later = answer  # now it would cut into a response in progress
            return
        self._answer_and_close(answer)

    def _answer_and_close(self, answer: bytes) -> None:
        self.transport.write(answer)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        # Closing with unread bytes would make the kernel reset the connection, and the client would lose
        # the answer with it (it is often still sending its huge head): so half-close, keep reading for a
        # while (the bytes are dropped), then close. A client that closes its side ends it sooner.
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _busy(self) -> bool:
        """Whether a request before this one still awaits (the end of) its response."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._head.limits.timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._ours():
            return
        if self._head.received == 0:  # nothing was asked: nothing to answer
            self.transport.close()
            return
        self._refuse(408, f"the request head did not arrive within {self._head.limits.timeout_seconds:g} s")

    def _ours(self) -> bool:
        """Whether the connection is open and still ours (not closing, not handed to a WebSocket protocol)."""
        return not self.transport.is_closing() and self.transport.get_protocol() is self


def problem_bytes(status: int, detail: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole `Connection: close` response with an RFC 9457 body shaped like the app's own problems."""
    phrase = TITLES.get(status) or http.HTTPStatus(status).phrase
    body = msgspec.json.encode(Problem(title=phrase, status=status, detail=detail))
    lines = [f"HTTP/1.1 {status} {phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        f"content-type: {PROBLEM_JSON}".encode(),
        f"content-length: {len(body)}".encode(),
        b"connection: close",
        b"x-content-type-options: nosniff",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
