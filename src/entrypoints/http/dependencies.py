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
from entrypoints.http.admission import ShedCounts
from entrypoints.http.latency import LatencyRecorder
from entrypoints.http.security import NONCE_KEY
from entrypoints.http.shared_answers import SharedAnswers
from entrypoints.http.status_responses import Runtime
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


def _shed_counts(state: State) -> ShedCounts:
    return state.shed_counts  # type: ignore[no-any-return]


def _shared_answers(state: State) -> SharedAnswers:
    return state.shared_answers  # type: ignore[no-any-return]


def _runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


def _latency(state: State) -> LatencyRecorder:
    return state.latency  # type: ignore[no-any-return]


async def _dashboard_api(state: State) -> ServiceApi:
    return await resolve(state.container.gateways.service_api)


def _dashboard_refresh_seconds(state: State) -> float:
    return float(state.container.core.settings().dashboard_refresh_seconds)


def _csp_nonce(request: Request[Any, Any, Any]) -> str:
    """The nonce SecurityHeaders put in this response's Content-Security-Policy."""
    return str(request.scope.get("state", {}).get(NONCE_KEY, ""))


DEPENDENCIES = {
    "csp_nonce": Provide(_csp_nonce, sync_to_thread=False),
    "dashboard_api": Provide(_dashboard_api),
    "dashboard_refresh_seconds": Provide(_dashboard_refresh_seconds, sync_to_thread=False),
    "list_symbols_use_case": Provide(_list_symbols),
    "get_candles_use_case": Provide(_get_candles),
    "list_trades_use_case": Provide(_list_trades),
    "candle_feed": Provide(_candle_feed),
    "operations": Provide(_operations, sync_to_thread=False),
    "shed_counts": Provide(_shed_counts, sync_to_thread=False),
    "shared_answers": Provide(_shared_answers, sync_to_thread=False),
    "runtime": Provide(_runtime, sync_to_thread=False),
    "latency": Provide(_latency, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}
