"""A Server-Sent Events reader for the stream tests: a thread that collects events from /candles/stream."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import httpx
from httpx_sse import connect_sse


@dataclass
class Received:
    event: str
    id: int | None
    data: dict
    at: float


@dataclass
class StreamReader:
    """Reads one stream in a thread until it ends, `stop()` is called, or `limit` events arrived."""

    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    events: list[Received] = field(default_factory=list)
    status: int | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)
    """Set at the stream's first frame (the `retry:` hint), which is sent once the subscription exists."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> StreamReader:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5, read=30)) as client,
                connect_sse(client, "GET", self.url, params=self.params, headers=self.headers) as source,
            ):
                self.status = source.response.status_code
                if self.status != 200:
                    return
                for sse in source.iter_sse():
                    if sse.event == "message" and not sse.data:
                        self.subscribed.set()  # the retry hint sent on connect
                        continue
                    ident = int(sse.id) if sse.id else None
                    self.events.append(Received(sse.event, ident, json.loads(sse.data or "{}"), time.monotonic()))
                    if self._stop.is_set() or (self.limit is not None and len(self.events) >= self.limit):
                        return
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def stop(self) -> None:
        self._stop.set()

    def wait_for(self, predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events):
                return
            if self.ended.is_set():
                break
            time.sleep(0.02)
        raise AssertionError(f"stream condition not met within {timeout}s; got {len(self.events)} events")

    def candles(self) -> list[Received]:
        return [e for e in self.events if e.event == "candle"]
