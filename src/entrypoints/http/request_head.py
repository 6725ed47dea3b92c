"""A request head counted as it arrives, without keeping it: where it ends, or which limit it breaks."""

from __future__ import annotations

from dataclasses import dataclass

CR = 13
LINE_END = 2
"""A line's limit is on its content; the CRLF that ends it comes on top."""


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """Bounds on one request head (its request line and header lines) and on how long it may take to arrive."""

    request_line_bytes: int = 8192
    header_bytes: int = 16_384
    headers_bytes: int = 65_536
    headers: int = 100
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class HeadRefused(Exception):
    """A head broke a limit: the status to answer (414 or 431) and a detail naming the limit."""

    status: int
    detail: str


class HeadScanner:
    """Counts one request head line by line as its bytes arrive and keeps none of them.

    It finds line ends only; whether the lines are valid HTTP is the parser's business, which sees the
    bytes after this scanner has let them through. Blank lines before the request line are skipped, as
    the parser skips them, but count towards the request line's limit.
    """

    def __init__(self, limits: HeadLimits) -> None:
        self.limits = limits
        self.start()

    def start(self) -> None:
        """Begin the next head."""
        self.received = 0
        self._line = 0  # bytes of the current line so far, its line end included
        self._request_line = False  # whether the request line has ended
        self._header_bytes = 0  # bytes after the request line, line ends included
        self._headers = 0
        self._last = 0  # the byte before `data` (a CR whose LF comes in the next read)

    def scan(self, data: bytes) -> int | None:
        """The offset in `data` just past the blank line that ends the head, or None when `data` ends inside it.

        Raises HeadRefused as soon as a limit is broken, before the line that breaks it has ended.
        """
        position, size = 0, len(data)
        while position < size:
            newline = data.find(b"\n", position)
            stop = size if newline < 0 else newline + 1
            self._count(stop - position)
            if newline < 0:
                break
            before = data[newline - 1] if newline > position else self._last
            blank = self._line == 1 or (self._line == 2 and before == CR)
            self._line = 0
            if self._end_line(blank):
                return stop
            position = stop
        if size:
            self._last = data[-1]
        return None

    def _count(self, size: int) -> None:
        limits = self.limits
        self.received += size
        self._line += size
        if not self._request_line:
            if self.received > limits.request_line_bytes + LINE_END:
                raise HeadRefused(414, f"the request line is longer than {limits.request_line_bytes:,} bytes")
            return
        self._header_bytes += size
        line_over = self._line - (limits.header_bytes + LINE_END)
        total_over = self._header_bytes - limits.headers_bytes
        # Name the limit the earliest byte broke, as if the bytes had come one by one: the verdict must
        # not depend on how the network cut them.
        if line_over > 0 and line_over >= total_over:
            raise HeadRefused(431, f"a header line is longer than {limits.header_bytes:,} bytes")
        if total_over > 0:
            raise HeadRefused(431, f"the header lines are longer than {limits.headers_bytes:,} bytes in all")

    def _end_line(self, blank: bool) -> bool:
        """Whether the line that just ended ends the head."""
        if not self._request_line:
            self._request_line = not blank
            return False
        if blank:
            return True
        self._headers += 1
        if self._headers > self.limits.headers:
            raise HeadRefused(431, f"more than {self.limits.headers} header lines")
        return False
