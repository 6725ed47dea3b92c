"""What the dashboard shows, built from the API's typed answers; missing pieces say why they are missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.http_client.service_api import Fetched
from entrypoints.http.dashboard.chart import Chart
from market_data_client.contract import IngestionStatusResponse, MetricsResponse, RouteLatencyResponse


@dataclass(frozen=True, slots=True)
class Problem:
    what: str
    why: str


@dataclass(frozen=True, slots=True)
class RouteRow:
    route: str
    count: str
    errors_4xx: str
    errors_5xx: str
    mean: str
    p50: str
    p95: str
    p99: str
    max: str
    minute_count: str
    minute_p95: str


@dataclass(slots=True)
class DashboardView:
    status: str = "unknown"
    status_detail: str = "ingestion status could not be fetched"
    facts: list[tuple[str, str]] = field(default_factory=list)
    database: list[tuple[str, str]] = field(default_factory=list)
    db_state: str = "unknown"
    ingestion: list[tuple[str, str]] = field(default_factory=list)
    service: list[tuple[str, str]] = field(default_factory=list)
    routes: list[RouteRow] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def build_view(
    status: Fetched[IngestionStatusResponse],
    metrics: Fetched[MetricsResponse],
    charts: list[Chart],
    extra: list[Fetched[Any]],
) -> DashboardView:
    view = DashboardView(charts=charts)
    fetched: list[Fetched[Any]] = [status, metrics, *extra]
    view.problems += [Problem(f"GET {f.path}", f.error or "failed") for f in fetched if not f.ok]
    # Without /status/ingestion, the same figures from /metrics.
    body = status.data if status.data is not None else metrics.data.ingestion if metrics.data is not None else None
    if body is not None:
        _freshness(view, body)
    if metrics.data is not None:
        _metrics(view, metrics.data)
    return view


def _freshness(view: DashboardView, s: IngestionStatusResponse) -> None:
    view.status = s.status
    age, threshold = s.heartbeat_age_seconds, s.stale_after_seconds
    if age is None:
        view.status_detail = "no heartbeat has ever been recorded"
    else:
        view.status_detail = f"heartbeat {seconds(age)} old, stale after {seconds(threshold)}"
    figures = _source(s.figures_source, s.figures_read_at)
    view.facts = [
        ("heartbeat age", f"{seconds(age)} of {seconds(threshold)}"),
        ("since last trade", seconds(s.seconds_since_last_trade)),
        ("interval", seconds(s.interval_seconds)),
        ("figures", figures),
    ]
    view.db_state = "up" if s.db_healthy else "down"
    view.database = [("healthy", "yes" if s.db_healthy else "NO"), ("latency", milliseconds(s.db_latency_ms))]
    if s.db_error:
        view.database.append(("error", s.db_error))
    if not s.db_healthy:
        view.problems.append(Problem("database", f"{s.db_error or 'unhealthy'}; figures shown: {figures}"))


def _metrics(view: DashboardView, m: MetricsResponse) -> None:
    view.facts += [("trades stored", count(m.counts.trades)), ("candles stored", count(m.counts.candles))]
    i = m.ingestion
    view.ingestion = [
        ("batches committed", count(i.batches_committed)),
        ("trades ingested", count(i.trades_ingested)),
        ("last batch", milliseconds(i.last_batch_duration_ms)),
        ("failed attempts", count(i.failed_attempts)),
        ("last error", i.last_error or "none"),
        ("last error at", moment(i.last_error_at)),
    ]
    view.service = [
        ("uptime", seconds(m.uptime_seconds)),
        ("started", moment(m.started_at)),
        ("instance", m.instance_id),
        ("version", m.version),
        ("ingestion leader", "yes" if m.is_ingestion_leader else "no"),
    ]
    view.routes = [_row(r) for r in m.latency.routes]


def _row(r: RouteLatencyResponse) -> RouteRow:
    total, minute = r.since_start, r.last_minute
    return RouteRow(
        route=f"{r.method} {r.route}",
        count=count(total.count),
        errors_4xx=count(total.errors_4xx),
        errors_5xx=count(total.errors_5xx),
        mean=milliseconds(total.mean_ms),
        p50=milliseconds(total.p50_ms),
        p95=milliseconds(total.p95_ms),
        p99=milliseconds(total.p99_ms),
        max=milliseconds(total.max_ms),
        minute_count=count(minute.count),
        minute_p95=milliseconds(minute.p95_ms),
    )


def _source(source: str, read_at: datetime | None) -> str:
    if source == "live":
        return "live"
    if source == "last_known":
        return f"last known, read {moment(read_at)}"
    return "none: the database has not answered yet"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


def moment(value: datetime | None) -> str:
    """A time from the API as `YYYY-MM-DD HH:MM:SS UTC`."""
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
