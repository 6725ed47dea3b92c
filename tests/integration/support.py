"""Helpers for integration tests: settings, a live HTTP server, waiting on conditions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import msgspec
import uvicorn

from adapters.postgres.embedded import free_port
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.http.protocol import server_options
from entrypoints.settings import Settings, load_settings

TABLES = ("trades", "candles", "candle_changes", "ingestion_heartbeat", "ingestion_watermark", "row_counts")
"""What a test empties to start clean (the schema, partitions and symbols are kept)."""


def make_settings(url: str, **overrides: object) -> Settings:
    return load_settings({}, **{"database_url": url, "ingestion_enabled": False, **overrides})


class LiveServer:
    """The real app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # The dashboard fetches the API at the service's own address: make it this port.
        settings = msgspec.structs.replace(settings, host="127.0.0.1", port=self.port)
        app = create_app(build_container(settings, url))
        self.app = app
        self._server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", **server_options(settings)
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        close_streams = getattr(self.app.state, "close_streams", None)
        if close_streams is not None:  # as a SIGTERM does: open event streams end first
            close_streams()
        self._server.should_exit = True
        self._thread.join(timeout=30)


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def async_wait_for(
    predicate: Callable[[], Awaitable[object]], timeout: float = 15.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
