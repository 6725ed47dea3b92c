"""Small Provide functions: the one way handlers receive use cases, ports and per-app state."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from adapters.http_client.service_api import ServiceApi
from application.candle_feed import CandleFeed
from application.candles import GetCandles
from application.ingestion_status import GetIngestionStatus
from application.ports import HealthProbe, Leadership
from application.symbols import ListSymbols
from application.trades import ListTrades
from entrypoints.container import resolve
from entrypoints.http.latency import LatencyRecorder
from entrypoints.http.security import NONCE_KEY
from entrypoints.http.status_responses import Runtime
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


async def _health_probe(state: State) -> HealthProbe:
    return await resolve(state.container.gateways.health_probe)


async def _status_probe(state: State) -> HealthProbe:
    return await resolve(state.container.gateways.status_probe)


async def _get_ingestion_status(state: State) -> GetIngestionStatus:
    return await resolve(state.container.use_cases.get_ingestion_status)


async def _leadership(state: State) -> Leadership:
    return await resolve(state.container.gateways.leadership)


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
    "health_probe": Provide(_health_probe),
    "status_probe": Provide(_status_probe),
    "get_ingestion_status_use_case": Provide(_get_ingestion_status),
    "leadership": Provide(_leadership),
    "runtime": Provide(_runtime, sync_to_thread=False),
    "latency": Provide(_latency, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}
