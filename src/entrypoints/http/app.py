"""Builds the Litestar app around a container; the lifespan owns resources, the stream feed and the operations loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from importlib.metadata import version
from types import FrameType
from typing import Any

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from adapters.http_client.answer_cache import AnswerCache
from entrypoints.container import Container, build_container, resolve, start_resources, stop_resources
from entrypoints.http.admission import DatabaseGate, ShedCounts
from entrypoints.http.dashboard import page as dashboard_page
from entrypoints.http.dependencies import dependencies
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.latency import LatencyMiddleware, LatencyRecorder
from entrypoints.http.openapi import OPERATOR_COMPONENTS
from entrypoints.http.routes import health, observability, symbols
from entrypoints.http.routes.candle_stream import stream_candles
from entrypoints.http.routes.candles import get_candles
from entrypoints.http.routes.trades import list_trades
from entrypoints.http.security import HeadAsGet, SecurityHeaders, is_loopback
from entrypoints.http.single_valued import SingleValuedQuery
from entrypoints.http.status_responses import Runtime, StatusReporter
from entrypoints.http.warmup import warm_up
from entrypoints.operations import OperationsThread
from entrypoints.settings import SettingsError, load_settings

log = logging.getLogger("mdp.app")
VERSION = version("market-data-platform")
"""The installed package's version: pyproject.toml says it once."""
WARM_UP_SECONDS = 2.0


def create_app(container: Container, measure_latency: bool = True) -> Litestar:
    settings = container.core.settings()
    latency = LatencyRecorder()
    operations = OperationsThread(settings, container.core.database_url())

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await start_resources(container)
        try:
            await (await resolve(container.use_cases.initialize_symbols))()
        except Exception as error:  # the database may be down; readiness will say so
            log.warning("could not initialise symbols at startup: %s", type(error).__name__)
        await warm_up(container, WARM_UP_SECONDS)
        # What startup built (modules, the app, the container) lives as long as the process: keep it out
        # of the cyclic collector's full passes, which otherwise walk all of it again and again under load.
        gc.freeze()
        stop = asyncio.Event()
        feed = await resolve(container.gateways.candle_feed)
        app.state.close_streams = _threadsafe(asyncio.get_running_loop(), feed.close)
        restore_signals = _close_streams_on_exit_signals(app.state.close_streams)
        feed_task = asyncio.create_task(feed.run(stop), name="candle-feed")
        with contextlib.suppress(TimeoutError):  # bounded: a database that is down must not hold up the start
            await asyncio.wait_for(feed.positioned.wait(), WARM_UP_SECONDS)
        await _keep_changes(container, settings.stream_retention_seconds)
        operations.start()
        await operations.wait_started(WARM_UP_SECONDS)
        try:
            yield
        finally:
            restore_signals()
            stop.set()
            feed.close()
            await operations.stop()
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
            await (await resolve(container.gateways.change_log)).close()
            await stop_resources(container)

    app = Litestar(
        route_handlers=[
            health.health,
            health.ready,
            symbols.list_symbols,
            list_trades,
            get_candles,
            stream_candles,
            observability.ingestion_status,
            observability.metrics,
            dashboard_page.dashboard,
        ],
        middleware=[DefineMiddleware(LatencyMiddleware, recorder=latency)] if measure_latency else [],
        template_config=TemplateConfig(directory=dashboard_page.TEMPLATES, engine=JinjaTemplateEngine),
        dependencies=dependencies(),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=SingleValuedQuery(),
        lifespan=[lifespan],
        logging_config=None,  # keep the process-wide format set by the CLI
        openapi_config=OpenAPIConfig(
            title="Market Data Platform",
            version=VERSION,
            description="Exact OHLCV candles and trades; prices are decimal strings, times UTC.",
            components=OPERATOR_COMPONENTS,
        ),
    )
    shed_counts = ShedCounts()
    # Around the whole handler, as Litestar does with CORS: 404s and 405s get the headers too,
    # and so do the 503s of the gate, which answers before routing.
    app.asgi_handler = HeadAsGet(
        SecurityHeaders(
            DatabaseGate(app.asgi_handler, settings.db_max_requests, settings.request_deadline_seconds, shed_counts)
        )
    )
    app.state.operations = operations
    app.state.shared_answers = AnswerCache[str, Any](ttl_seconds=1.0)
    app.state.operator_token = settings.operator_token
    if settings.operator_token is None and not is_loopback(settings.host):
        log.warning(
            "OPERATOR_TOKEN is not set and HOST=%s is not loopback: /metrics and /dashboard are open", settings.host
        )
    app.state.container = container
    app.state.latency = latency
    app.state.runtime = runtime = Runtime(settings.resolved_instance_id, VERSION, container.core.clock().now())
    app.state.status_reporter = StatusReporter(operations, runtime, latency, shed_counts)
    return app


def app_from_environment() -> Litestar:
    """What each worker process serves when WEB_CONCURRENCY > 1: settings and DATABASE_URL from the environment."""
    from entrypoints.cli import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.database_url is None:
        raise SettingsError("DATABASE_URL must be set for a worker process (`mdp run` sets it)")
    return create_app(build_container(settings, settings.database_url))


def _close_streams_on_exit_signals(close: Callable[[], None]) -> Callable[[], None]:
    """On SIGINT or SIGTERM, end the event streams, then let uvicorn's own handler begin the graceful shutdown.

    uvicorn waits for open connections before it shuts the app down, and an event stream never ends
    on its own: without this, every stop would wait out the shutdown timeout. Returns the undo.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # served from a thread (as tests do): signals are not ours to take
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(sig: int, frame: FrameType | None) -> None:
        close()
        handler = previous[signal.Signals(sig)]
        if callable(handler):
            handler(sig, frame)

    for sig in previous:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)

    return restore


def _threadsafe(loop: asyncio.AbstractEventLoop, action: Callable[[], None]) -> Callable[[], None]:
    """`action` run on the app's loop, callable from a signal handler or another thread."""

    def call() -> None:
        loop.call_soon_threadsafe(action)

    return call


async def _keep_changes(container: Container, seconds: int) -> None:
    try:
        change_log = await resolve(container.gateways.change_log)
        await asyncio.wait_for(change_log.keep_for(seconds), 2.0)
    except Exception as error:  # the database may be down; the default retention (1 h) stands
        log.warning("could not set the change retention at startup: %s", type(error).__name__)
