"""Small Provide functions: the one way handlers receive use cases, ports and per-app state."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from adapters.http_client.service_api import ServiceApi
from application.candle_feed import CandleFeed
from application.candles import GetCandles
from application.symbols import ListSymbols
from application.trades import ListTrades
from entrypoints.container import resolve
from entrypoints.http.security import csp_nonce
from entrypoints.http.status_responses import StatusReporter
from entrypoints.operations import OperationsThread
from entrypoints.settings import Settings


async def _list_symbols(state: State) -> ListSymbols:
    return await resolve(state.container.use_cases.list_symbols)


async def _get_candles(state: State) -> GetCandles:
    return await resolve(state.container.use_cases.get_candles)


async def _candle_feed(state: State) -> CandleFeed:
    return await resolve(state.container.gateways.candle_feed)


def _settings(state: State) -> Settings:
    return state.container.core.settings()  # type: ignore[no-any-return]


async def _list_trades(state: State) -> ListTrades:
    return await resolve(state.container.use_cases.list_trades)


def _operations(state: State) -> OperationsThread:
    return state.operations  # type: ignore[no-any-return]


def _status_reporter(state: State) -> StatusReporter:
    return state.status_reporter  # type: ignore[no-any-return]


async def _dashboard_api(state: State) -> ServiceApi:
    return await resolve(state.container.gateways.service_api)


def _dashboard_refresh_seconds(state: State) -> float:
    return float(state.container.core.settings().dashboard_refresh_seconds)


def _csp_nonce(request: Request[Any, Any, Any]) -> str:
    """The nonce SecurityHeaders puts in this response's Content-Security-Policy."""
    return csp_nonce(request.scope)


def dependencies() -> dict[str, Provide]:
    """A fresh set for each app. What lives as long as the app is resolved once and kept (`use_cache`):
    the hot routes then pay nothing per request for it. Shared between apps (tests build many), a cached
    value would outlive its app, hence a set per app."""
    return {
        "csp_nonce": Provide(_csp_nonce, sync_to_thread=False),
        "dashboard_api": Provide(_dashboard_api, use_cache=True),
        "dashboard_refresh_seconds": Provide(_dashboard_refresh_seconds, sync_to_thread=False, use_cache=True),
        "list_symbols_use_case": Provide(_list_symbols, use_cache=True),
        "get_candles_use_case": Provide(_get_candles, use_cache=True),
        "list_trades_use_case": Provide(_list_trades, use_cache=True),
        "candle_feed": Provide(_candle_feed, use_cache=True),
        "operations": Provide(_operations, sync_to_thread=False, use_cache=True),
        "status_reporter": Provide(_status_reporter, sync_to_thread=False, use_cache=True),
        "settings": Provide(_settings, sync_to_thread=False, use_cache=True),
    }
