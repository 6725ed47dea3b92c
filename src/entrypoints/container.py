"""The composition root: the only place that knows every concrete class."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.clock import SystemClock
from adapters.http_client.service_api import service_api_resource
from adapters.postgres.change_log import PostgresChangeLog, PostgresChangeNotices
from adapters.postgres.engine import PoolSettings, PostgresHealthProbe, engine_resource
from adapters.postgres.leader import LeaderUnitOfWorkFactory, leader_lock_resource
from adapters.postgres.market_reads import PostgresMarketReads
from adapters.postgres.read_pool import ReadPoolSettings, read_pool_resource
from adapters.postgres.statistics import PostgresStatisticsReader
from adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from adapters.synthetic.source import SyntheticTradeSource
from application.candle_feed import CandleFeed
from application.candles import GetCandles
from application.ingestion import IngestBatch
from application.ingestion_status import GetIngestionStatus
from application.symbols import InitializeSymbols, ListSymbols
from application.trades import ListTrades
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.runner import IngestionRunner
from entrypoints.settings import Settings

T = TypeVar("T")


def _pool(settings: Settings) -> PoolSettings:
    return PoolSettings(
        size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        timeout_seconds=settings.db_pool_timeout_seconds,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )


def _read_pool(settings: Settings) -> ReadPoolSettings:
    return ReadPoolSettings(
        size=settings.db_read_pool_size,
        timeout_seconds=settings.db_pool_timeout_seconds,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )


def _trades_per_second(settings: Settings) -> float:
    return settings.ingestion_trades_per_tick / settings.ingestion_interval_seconds


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    database_url = providers.Dependency(instance_of=str)
    clock = providers.Singleton(SystemClock)


class Gateways(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()

    engine = providers.Resource(
        engine_resource,
        url=core.database_url,
        pool=providers.Callable(_pool, core.settings),
        application_name=providers.Callable("mdp {}".format, core.settings.provided.resolved_instance_id),
    )
    sessions = providers.Singleton(async_sessionmaker, engine, expire_on_commit=False)
    unit_of_work = providers.Singleton(PostgresUnitOfWorkFactory, sessions)
    read_pool = providers.Resource(
        read_pool_resource,
        url=core.database_url,
        settings=providers.Callable(_read_pool, core.settings),
        application_name=providers.Callable("mdp reads {}".format, core.settings.provided.resolved_instance_id),
    )
    market_reads = providers.Singleton(PostgresMarketReads, read_pool)
    health_probe = providers.Singleton(PostgresHealthProbe, engine, timeout_seconds=1.0)
    # /status/ingestion and /metrics must answer within a second: a shorter deadline.
    status_probe = providers.Singleton(
        PostgresHealthProbe,
        engine,
        timeout_seconds=core.settings.provided.status_db_timeout_seconds,
    )
    statistics_reader = providers.Singleton(PostgresStatisticsReader, sessions)
    service_api = providers.Resource(
        service_api_resource,
        base_url=core.settings.provided.dashboard_base_url,
        timeout_seconds=core.settings.provided.dashboard_fetch_timeout_seconds,
        token=core.settings.provided.dashboard_token,
        cache_seconds=core.settings.provided.dashboard_cache_seconds,
    )
    # Ingestion leadership: an advisory lock on a dedicated session (not pooled)
    # that also carries the leader's batches, so a deposed leader cannot commit.
    leadership = providers.Resource(
        leader_lock_resource,
        url=core.database_url,
        interval_seconds=core.settings.provided.ingestion_interval_seconds,
        application_name=providers.Callable("mdp-leader {}".format, core.settings.provided.resolved_instance_id),
        statement_timeout_ms=core.settings.provided.db_statement_timeout_ms,
    )
    leader_unit_of_work = providers.Singleton(LeaderUnitOfWorkFactory, leadership)
    # The live candle feed: one reading connection and one LISTEN connection per process.
    change_log = providers.Singleton(
        PostgresChangeLog, core.database_url, engine, connect_timeout=core.settings.provided.db_connect_timeout_seconds
    )
    change_notices = providers.Singleton(
        PostgresChangeNotices, core.database_url, connect_timeout=core.settings.provided.db_connect_timeout_seconds
    )
    candle_feed = providers.Singleton(
        CandleFeed, change_log, change_notices, queue_size=core.settings.provided.stream_queue_size
    )
    trade_source = providers.Singleton(
        SyntheticTradeSource,
        SUPPORTED_SYMBOLS,
        start=core.clock.provided.now.call(),
        trades_per_second=providers.Callable(_trades_per_second, core.settings),
        seed=core.settings.provided.ingestion_seed,
    )


class UseCases(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    # A singleton: it carries the failure count between batches. It writes only
    # while this process leads (through the leader's own session).
    ingest_batch_as_leader = providers.Singleton(
        IngestBatch, gateways.trade_source, gateways.leader_unit_of_work, core.clock
    )
    initialize_symbols = providers.Factory(InitializeSymbols, gateways.unit_of_work)
    list_symbols = providers.Factory(ListSymbols, gateways.unit_of_work)
    # A singleton: it remembers the last figures the store gave, for when it gives none.
    get_ingestion_status = providers.Singleton(
        GetIngestionStatus,
        gateways.statistics_reader,
        core.clock,
        core.settings.provided.ingestion_interval_seconds,
        core.settings.provided.status_db_timeout_seconds,
    )
    # Singletons: they keep nothing between calls, and the hot paths should not build them per request.
    get_candles = providers.Singleton(
        GetCandles,
        gateways.market_reads,
        gateways.unit_of_work,
        core.clock,
        core.settings.provided.ingestion_interval_seconds,
    )
    list_trades = providers.Singleton(ListTrades, gateways.market_reads)


class Container(containers.DeclarativeContainer):
    core = providers.Container(Core)
    gateways = providers.Container(Gateways, core=core)
    use_cases = providers.Container(UseCases, core=core, gateways=gateways)
    # The ingestion loop, wired here once for both `mdp run` (the app's lifespan) and `mdp ingest`.
    ingestion_runner = providers.Factory(
        IngestionRunner,
        use_cases.ingest_batch_as_leader,
        core.settings.provided.ingestion_interval_seconds,
        core.settings.provided.ingestion_max_backoff_seconds,
        leadership=gateways.leadership,
    )


def build_container(settings: Settings, database_url: str) -> Container:
    container = Container()
    container.core.settings.override(settings)
    container.core.database_url.override(database_url)
    return container


async def resolve(provider: Callable[[], T | Awaitable[T]]) -> T:
    """Call a provider; those that depend on the async engine resource return awaitables."""
    value = provider()
    if inspect.isawaitable(value):
        return await value
    return value


async def start_resources(container: Container) -> None:
    await _settle(container.init_resources())


async def stop_resources(container: Container) -> None:
    await _settle(container.shutdown_resources())


async def _settle(result: object) -> None:
    if inspect.isawaitable(result):
        await result
