"""Writes a connection makes in one turn of the loop leave as one send."""

from __future__ import annotations

import asyncio
from typing import Any

from entrypoints.http.coalescing import CoalescingTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def write_eof(self) -> None:
        self.events.append("eof")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


async def test_head_and_body_written_in_one_turn_leave_as_one_send() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"body")
    assert raw.sent == [] and transport.get_write_buffer_size() == 23
    await asyncio.sleep(0)
    assert raw.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    transport.write(b"next")  # a later turn: a send of its own
    await asyncio.sleep(0)
    assert raw.sent[-1] == b"next"


async def test_close_and_eof_send_what_is_pending_first_and_abort_drops_it() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"answer")
    transport.write_eof()
    assert raw.sent == [b"answer"] and raw.events == ["eof"]
    transport.write(b"last")
    transport.close()
    assert raw.sent == [b"answer", b"last"] and raw.events == ["eof", "close"]
    transport.write(b"never")
    transport.abort()
    await asyncio.sleep(0)
    assert raw.sent == [b"answer", b"last"]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)  # everything else is the transport's
