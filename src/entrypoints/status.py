"""`mdp status`: the ingestion status and key metrics of a running instance, read over its HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any

from adapters.http_client.service_api import Fetched, service_api_resource
from entrypoints.arguments import http_url, positive
from entrypoints.settings import Settings

STATUS, METRICS = "/status/ingestion", "/metrics"


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
    status.add_argument("--json", action="store_true", help="print both JSON documents as they came")
    status.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    base = (args.url or settings.public_base_url).rstrip("/")
    status, metrics = asyncio.run(_fetch(base, args.timeout))
    if not status.ok:
        print(f"mdp status: {base}{STATUS}: {status.error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"status": status.data, "metrics": metrics.data}, indent=2))
    else:
        print("\n".join(render(base, status.data, metrics.data if metrics.ok else None)))
    return 0 if status.data.get("status") == "alive" and status.data.get("db_healthy") else 1


async def _fetch(base: str, timeout: float) -> tuple[Fetched, Fetched]:
    async with contextlib.asynccontextmanager(service_api_resource)(base, timeout) as api:
        status, metrics = await asyncio.gather(api.get_json(STATUS), api.get_json(METRICS))
    return status, metrics


def render(base: str, status: dict[str, Any], metrics: dict[str, Any] | None) -> list[str]:
    """A few aligned lines an operator reads at a glance; absent figures print as `-`."""
    m = metrics or {}
    ingestion = m.get("ingestion") or {}
    counts = m.get("counts") or {}
    leader = m.get("is_ingestion_leader")
    role = "ingestion leader" if leader is True else "not the ingestion leader" if leader is False else ""
    lines = [
        f"instance   {status.get('instance_id', '-')} at {base}" + (f" ({role})" if role else ""),
        f"ingestion  {str(status.get('status', '-')).upper()}   heartbeat {_age(status.get('heartbeat_age_seconds'))}"
        f"   last trade {_age(status.get('seconds_since_last_trade'))}"
        f"   stale after {_num(status.get('stale_after_seconds'))}s",
        f"database   {_database(status)}",
        f"uptime     {_duration(status.get('uptime_seconds'))} (since {status.get('started_at', '-')})",
    ]
    if metrics is not None:
        lines += [
            f"batches    {_num(ingestion.get('batches_committed'))} committed, "
            f"{_num(ingestion.get('trades_ingested'))} trades, {_num(ingestion.get('failed_attempts'))} failed attempts",
            f"rows       trades {_num(counts.get('trades'))}   candles {_num(counts.get('candles'))}",
            *_latency(m.get("latency") or {}),
        ]
    if ingestion.get("last_error"):
        lines.append(f"last error {ingestion['last_error']} (at {ingestion.get('last_error_at', '-')})")
    return lines


def _database(status: dict[str, Any]) -> str:
    if status.get("db_healthy"):
        return f"healthy ({_num(status.get('db_latency_ms'))} ms)"
    return f"UNHEALTHY: {status.get('db_error') or 'no answer'}"


def _latency(latency: dict[str, Any]) -> list[str]:
    lines = []
    for route in latency.get("routes") or []:
        window = route.get("last_minute") or {}
        if window.get("count"):
            lines.append(
                f"latency    {route.get('method')} {route.get('route')}: p50 {_num(window.get('p50_ms'))} ms,"
                f" p95 {_num(window.get('p95_ms'))} ms, p99 {_num(window.get('p99_ms'))} ms"
                f" over {window['count']} requests in the last minute"
            )
    return lines


def _num(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _age(seconds: object) -> str:
    return f"{_num(seconds)}s ago" if isinstance(seconds, int | float) else "never"


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"
