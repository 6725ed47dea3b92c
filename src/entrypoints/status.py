"""`mdp status`: the ingestion status and key metrics of a running instance, read over its HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from datetime import datetime
from typing import Any

import msgspec

from adapters.http_client.service_api import Fetched, service_api_resource
from domain.ranges import rfc3339
from entrypoints.arguments import http_url, positive
from entrypoints.settings import Settings
from market_data_client.contract import IngestionStatusResponse, MetricsResponse, RouteLatencyResponse


def add_status_command(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="print the ingestion status and key metrics of a running instance (over HTTP, works remotely)",
        description=(
            "Ask a running instance for /status/ingestion and /metrics and print the essentials. "
            "Exit status 0 when ingestion is alive and the database healthy, 1 otherwise or when "
            "the instance does not answer."
        ),
    )
    status.add_argument(
        "--url", type=http_url, default=None, help="base URL of the instance (default: http://127.0.0.1:$PORT)"
    )
    status.add_argument(
        "--timeout", type=positive("seconds"), default=3.0, help="seconds to wait for each answer (default 3)"
    )
    status.add_argument(
        "--json", action="store_true", help="print both documents as JSON, as the API's contract types encode them"
    )
    status.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    base = (args.url or settings.public_base_url).rstrip("/")
    fetched, metrics = asyncio.run(_fetch(base, args.timeout, settings.dashboard_token))
    status = fetched.data
    if status is None:
        print(f"mdp status: {base}{fetched.path}: {fetched.error}", file=sys.stderr)
        return 1
    if args.json:
        documents = {"status": status, "metrics": metrics.data}
        print(json.dumps(msgspec.to_builtins(documents), indent=2))
    else:
        print("\n".join(render(base, status, metrics.data)))
    return 0 if status.status == "alive" and status.db_healthy else 1


async def _fetch(
    base: str, timeout: float, token: str | None
) -> tuple[Fetched[IngestionStatusResponse], Fetched[MetricsResponse]]:
    """With OPERATOR_TOKEN (or DASHBOARD_API_TOKEN) in the environment, /metrics is asked with it."""
    async with contextlib.asynccontextmanager(service_api_resource)(base, timeout, token) as api:
        status, metrics = await asyncio.gather(api.status(), api.metrics())
    return status, metrics


def render(base: str, status: IngestionStatusResponse, metrics: MetricsResponse | None) -> list[str]:
    """A few aligned lines an operator reads at a glance; absent figures print as `-`."""
    role = ""
    if metrics is not None:
        role = "ingestion leader" if metrics.is_ingestion_leader else "not the ingestion leader"
    lines = [
        f"instance   {status.instance_id} at {base}" + (f" ({role})" if role else ""),
        f"ingestion  {status.status.upper()}   heartbeat {_age(status.heartbeat_age_seconds)}"
        f"   last trade {_age(status.seconds_since_last_trade)}"
        f"   stale after {_num(status.stale_after_seconds)}s",
        f"database   {_database(status)}",
        f"uptime     {_duration(status.uptime_seconds)} (since {_moment(status.started_at)})",
    ]
    if metrics is None:
        return lines
    ingestion, counts = metrics.ingestion, metrics.counts
    lines += [
        f"batches    {_num(ingestion.batches_committed)} committed, "
        f"{_num(ingestion.trades_ingested)} trades, {_num(ingestion.failed_attempts)} failed attempts",
        f"rows       trades {_num(counts.trades)}   candles {_num(counts.candles)}",
        *_latency(metrics.latency.routes),
    ]
    if ingestion.last_error:
        lines.append(f"last error {ingestion.last_error} (at {_moment(ingestion.last_error_at)})")
    return lines


def _database(status: IngestionStatusResponse) -> str:
    if status.db_healthy:
        return f"healthy ({_num(status.db_latency_ms)} ms)"
    return f"UNHEALTHY: {status.db_error or 'no answer'}"


def _latency(routes: list[RouteLatencyResponse]) -> list[str]:
    lines = []
    for route in routes:
        window = route.last_minute
        if window.count:
            lines.append(
                f"latency    {route.method} {route.route}: p50 {_num(window.p50_ms)} ms,"
                f" p95 {_num(window.p95_ms)} ms, p99 {_num(window.p99_ms)} ms"
                f" over {window.count} requests in the last minute"
            )
    return lines


def _moment(moment: datetime | None) -> str:
    """A time as the API wrote it (RFC 3339, Z); `-` when there is none."""
    return "-" if moment is None else rfc3339(moment)


def _num(value: float | None) -> str:
    """A figure from the contract: ints with thousands separators, floats to 3 significant digits, None as `-`."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _age(seconds: float | None) -> str:
    return "never" if seconds is None else f"{_num(seconds)}s ago"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"
