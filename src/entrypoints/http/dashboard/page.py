"""`GET /dashboard`: fetches the API over HTTP, like any external client would.

Concurrent renders share the answers (ServiceApi's cache, DASHBOARD_CACHE_SECONDS):
one call per URL at a time, its answer kept for a second by default.

This module may not import the database adapters, the use cases or the
container (an import-linter contract checks it): what it shows is what the
HTTP API said, or a note saying what could not be fetched.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar import MediaType, get
from litestar.di import NamedDependency
from litestar.response import Template

from adapters.http_client.service_api import Fetched, ServiceApi
from entrypoints.http.dashboard.chart import Chart, build_chart
from entrypoints.http.dashboard.view import build_view
from entrypoints.http.openapi import OPERATOR_SECURITY, problem_responses
from entrypoints.http.security import operator_guard

TEMPLATES = Path(__file__).parent / "templates"
CHART_WINDOW = timedelta(hours=1)


@get(
    "/dashboard",
    media_type=MediaType.HTML,
    summary="Operator dashboard (HTML)",
    guards=[operator_guard],
    security=OPERATOR_SECURITY,
    responses=problem_responses(401),
)
async def dashboard(
    dashboard_api: NamedDependency[ServiceApi],
    dashboard_refresh_seconds: NamedDependency[float],
    csp_nonce: NamedDependency[str],
) -> Template:
    status, metrics, symbols = await asyncio.gather(
        dashboard_api.status(), dashboard_api.metrics(), dashboard_api.symbols()
    )
    charts = await _charts(dashboard_api, symbols)
    view = build_view(status, metrics, charts, [symbols])
    return Template(
        template_name="dashboard.html.j2",
        context={
            "view": view,
            "refresh_seconds": dashboard_refresh_seconds,
            "rendered_at": _now_text(),
            "csp_nonce": csp_nonce,
        },
        headers={"Cache-Control": "no-store"},
    )


async def _charts(api: ServiceApi, symbols: Fetched[list[str]]) -> list[Chart]:
    names = symbols.data or []
    end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - CHART_WINDOW
    answers = await asyncio.gather(*(api.candles(name, "1m", start, end) for name in names))
    return [
        build_chart(name, answer.data.candles, start)
        if answer.data is not None
        else Chart(name, [], None, None, None, answer.error)
        for name, answer in zip(names, answers, strict=True)
    ]


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
