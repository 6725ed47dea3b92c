"""Builds the Litestar app around a container; the lifespan owns resources and the runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from importlib.metadata import version

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from entrypoints.container import Container, resolve, start_resources, stop_resources
from entrypoints.http.dashboard import page as dashboard_page
from entrypoints.http.dependencies import DEPENDENCIES
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.latency import LatencyMiddleware, LatencyRecorder
from entrypoints.http.routes import health, observability, symbols
from entrypoints.http.routes.candle_stream import stream_candles
from entrypoints.http.routes.candles import get_candles
from entrypoints.http.routes.trades import list_trades
from entrypoints.http.security import HeadAsGet, SecurityHeaders, is_loopback
from entrypoints.http.single_valued import SingleValuedQuery
from entrypoints.http.status_responses import Runtime
from entrypoints.http.warmup import warm_up

log = logging.getLogger("mdp.app")
VERSION = version("market-data-platform")
"""The installed package's version: pyproject.toml says it once."""
WARM_UP_SECONDS = 2.0


def create_app(container: Container, measure_latency: bool = True) -> Litestar:
    settings = container.core.settings()
    latency = LatencyRecorder()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await start_resources(container)
        try:
            await (await resolve(container.use_cases.initialize_symbols))()
        except Exception as error:  # the database may be down; readiness will say so
            log.warning("could not initialise symbols at startup: %s", type(error).__name__)
        await warm_up(container, WARM_UP_SECONDS)
        stop = asyncio.Event()
        feed = await resolve(container.gateways.candle_feed)
        app.state.close_streams = _threadsafe(asyncio.get_running_loop(), feed.close)
        feed_task = asyncio.create_task(feed.run(stop), name="candle-feed")
        with contextlib.suppress(TimeoutError):  # bounded: a database that is down must not hold up the start
            await asyncio.wait_for(feed.positioned.wait(), WARM_UP_SECONDS)
        await _keep_changes(container, settings.stream_retention_seconds)
        runner_task = None
        if settings.ingestion_enabled:
            runner = await resolve(container.ingestion_runner)
            runner_task = asyncio.create_task(runner.run(stop), name="ingestion")
        try:
            yield
        finally:
            stop.set()
            feed.close()
            if runner_task is not None:
                await _finish(runner_task, settings.shutdown_timeout_seconds)
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
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=SingleValuedQuery(),
        lifespan=[lifespan],
        logging_config=None,  # keep the process-wide format set by the CLI
        openapi_config=OpenAPIConfig(
            title="Market Data Platform",
            version=VERSION,
            description="Exact OHLCV candles and trades; prices are decimal strings, times UTC.",
        ),
    )
    # Around the whole handler, as Litestar does with CORS: 404s and 405s get the headers too.
    app.asgi_handler = HeadAsGet(SecurityHeaders(app.asgi_handler))
    app.state.operator_token = settings.operator_token
    if settings.operator_token is None and not is_loopback(settings.host):
        log.warning(
            "OPERATOR_TOKEN is not set and HOST=%s is not loopback: /metrics and /dashboard are open", settings.host
        )
    app.state.container = container
    app.state.latency = latency
    app.state.runtime = Runtime(settings.resolved_instance_id, VERSION, container.core.clock().now())
    return app


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


async def _finish(task: asyncio.Task[None], timeout: float) -> None:
    """Let the batch in flight commit or roll back; cancel only past the shutdown timeout."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        log.warning("ingestion did not stop within %gs; cancelling it (its transaction rolls back)", timeout)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
