"""What the dashboard shows, built from the JSON the API returned; missing pieces say why they are missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.http_client.service_api import Fetched
from entrypoints.http.dashboard.chart import Chart


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
    metrics_ok: bool = False


def build_view(status: Fetched, metrics: Fetched, charts: list[Chart], extra: list[Fetched]) -> DashboardView:
    view = DashboardView(charts=charts)
    for fetched in (status, metrics, *extra):
        if not fetched.ok:
            view.problems.append(Problem(f"GET {fetched.path}", fetched.error or "failed"))
    body = status.data if status.ok and isinstance(status.data, dict) else None
    m = metrics.data if metrics.ok and isinstance(metrics.data, dict) else None
    if body is None and m is not None and isinstance(m.get("ingestion"), dict):
        body = m["ingestion"]  # the same figures, from the other endpoint
    if body is not None:
        _freshness(view, body)
    if m is not None:
        view.metrics_ok = True
        _metrics(view, m)
    return view


def _freshness(view: DashboardView, s: dict[str, Any]) -> None:
    view.status = str(s.get("status", "unknown"))
    age, threshold = s.get("heartbeat_age_seconds"), s.get("stale_after_seconds")
    if age is None:
        view.status_detail = "no heartbeat has ever been recorded"
    else:
        view.status_detail = f"heartbeat {seconds(age)} old, stale after {seconds(threshold)}"
    view.facts = [
        ("heartbeat age", f"{seconds(age)} of {seconds(threshold)}"),
        ("since last trade", seconds(s.get("seconds_since_last_trade"))),
        ("interval", seconds(s.get("interval_seconds"))),
        ("figures", _source(s.get("figures_source"), s.get("figures_read_at"))),
    ]
    healthy = s.get("db_healthy")
    view.db_state = "up" if healthy else "down"
    view.database = [
        ("healthy", "yes" if healthy else "NO"),
        ("latency", milliseconds(s.get("db_latency_ms"))),
    ]
    if s.get("db_error"):
        view.database.append(("error", str(s["db_error"])))
    if not healthy:
        figures = _source(s.get("figures_source"), s.get("figures_read_at"))
        view.problems.append(Problem("database", f"{s.get('db_error') or 'unhealthy'}; figures shown: {figures}"))


def _metrics(view: DashboardView, m: dict[str, Any]) -> None:
    counts = m.get("counts") or {}
    view.facts += [("trades stored", count(counts.get("trades"))), ("candles stored", count(counts.get("candles")))]
    i = m.get("ingestion") or {}
    view.ingestion = [
        ("batches committed", count(i.get("batches_committed"))),
        ("trades ingested", count(i.get("trades_ingested"))),
        ("last batch", milliseconds(i.get("last_batch_duration_ms"))),
        ("failed attempts", count(i.get("failed_attempts"))),
        ("last error", str(i.get("last_error") or "none")),
        ("last error at", moment(i.get("last_error_at"))),
    ]
    view.service = [
        ("uptime", seconds(m.get("uptime_seconds"))),
        ("started", moment(m.get("started_at"))),
        ("instance", str(m.get("instance_id", "-"))),
        ("version", str(m.get("version", "-"))),
        ("ingestion leader", _leader(m.get("is_ingestion_leader"))),
    ]
    latency = m.get("latency") or {}
    view.routes = [_row(r) for r in latency.get("routes", []) if isinstance(r, dict)]


def _row(r: dict[str, Any]) -> RouteRow:
    total, minute = r.get("since_start") or {}, r.get("last_minute") or {}
    return RouteRow(
        route=f"{r.get('method', '')} {r.get('route', '')}",
        count=count(total.get("count")),
        errors_4xx=count(total.get("errors_4xx")),
        errors_5xx=count(total.get("errors_5xx")),
        mean=milliseconds(total.get("mean_ms")),
        p50=milliseconds(total.get("p50_ms")),
        p95=milliseconds(total.get("p95_ms")),
        p99=milliseconds(total.get("p99_ms")),
        max=milliseconds(total.get("max_ms")),
        minute_count=count(minute.get("count")),
        minute_p95=milliseconds(minute.get("p95_ms")),
    )


def _leader(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-"


def _source(source: Any, read_at: Any) -> str:
    if source == "live":
        return "live"
    if source == "last_known":
        return f"last known, read {moment(read_at)}"
    return "none: the database has not answered yet"


def seconds(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


def moment(value: Any) -> str:
    """An RFC 3339 time from the API as `YYYY-MM-DD HH:MM:SS UTC`; anything else as it came."""
    if not isinstance(value, str):
        return "-"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def milliseconds(value: Any) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) else "-"


def count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"
