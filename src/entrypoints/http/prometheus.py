"""The `/metrics` figures in the Prometheus text and OpenMetrics formats, via prometheus-client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client import exposition as text_format
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.openmetrics import exposition as openmetrics_format

from entrypoints.http.histogram import BOUNDS_MS
from entrypoints.http.latency import RouteLatency
from market_data_client.contract import MetricsResponse

OPENMETRICS = "application/openmetrics-text"
# Prometheus buckets: every fourth fine bound (a doubling), 0.1 ms .. about 105 s.
EXPORTED_BOUNDS_MS = BOUNDS_MS[4::4]


def wants_prometheus(accept: str) -> str | None:
    """The text format the Accept header asks for ahead of JSON, if any (JSON stays the default)."""
    ranked = _ranked(accept)
    for media in ranked:
        if media == OPENMETRICS:
            return OPENMETRICS
        if media == "text/plain":
            return "text/plain"
        if media in ("application/json", "*/*", "application/*"):
            return None
    return None


# Litestar appends "; charset=utf-8" to every text/* media type, so the text format's is given without it.
# prometheus-client labels its classic text output "version=1.0.0" since 0.22; the body is the 0.0.4
# exposition format Prometheus documents, and that is what scrapers match on.
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def content_type(media: str) -> str:
    return OPENMETRICS_CONTENT_TYPE if media == OPENMETRICS else TEXT_CONTENT_TYPE


def render(metrics: MetricsResponse, routes: list[RouteLatency], media: str) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(metrics, routes))
    if media == OPENMETRICS:
        return openmetrics_format.generate_latest(registry), OPENMETRICS_CONTENT_TYPE  # type: ignore[no-untyped-call]
    return text_format.generate_latest(registry), TEXT_CONTENT_TYPE


class _Snapshot:
    """A one-shot collector over figures already gathered for this response."""

    def __init__(self, metrics: MetricsResponse, routes: list[RouteLatency]) -> None:
        self._m = metrics
        self._routes = routes

    def collect(self) -> Iterator[Metric]:
        yield from self._service()
        yield from self._store()
        yield from self._ingestion()
        yield from self._latency()

    def _service(self) -> Iterator[Metric]:
        m = self._m
        info = GaugeMetricFamily("mdp_info", "Service identity", labels=["instance_id", "version"])
        info.add_metric([m.instance_id, m.version], 1)
        yield info
        yield GaugeMetricFamily("mdp_start_time_seconds", "Process start, Unix time", m.started_at.timestamp())
        yield GaugeMetricFamily("mdp_uptime_seconds", "Seconds since the process started", m.uptime_seconds)
        yield GaugeMetricFamily("mdp_db_healthy", "1 when the database answered just now", int(m.db_healthy))
        yield GaugeMetricFamily(
            "mdp_ingestion_leader", "1 while this replica holds the ingestion leadership", int(m.is_ingestion_leader)
        )
        if m.db_latency_ms is not None:
            yield GaugeMetricFamily("mdp_db_latency_seconds", "Round trip of SELECT 1", m.db_latency_ms / 1000)
        shed = CounterMetricFamily(
            "mdp_requests_shed", "Database-backed requests answered 503 instead of served", labels=["reason"]
        )
        shed.add_metric(["busy"], m.requests_shed.busy)
        shed.add_metric(["deadline"], m.requests_shed.deadline)
        yield shed

    def _store(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily("mdp_rows", "Exact stored rows (trigger-maintained counters)", labels=["table"])
        for table, value in (("trades", self._m.counts.trades), ("candles", self._m.counts.candles)):
            if value is not None:
                rows.add_metric([table], value)
        yield rows

    def _ingestion(self) -> Iterator[Metric]:
        i = self._m.ingestion
        yield GaugeMetricFamily("mdp_ingestion_alive", "1 while the heartbeat is fresh", int(i.status == "alive"))
        yield GaugeMetricFamily("mdp_ingestion_stale_after_seconds", "Stale threshold", i.stale_after_seconds)
        optional = (
            ("mdp_ingestion_heartbeat_age_seconds", "Age of the last committed batch", i.heartbeat_age_seconds),
            ("mdp_ingestion_seconds_since_last_trade", "Age of the newest stored trade", i.seconds_since_last_trade),
            (
                "mdp_ingestion_watermark_age_seconds",
                "How far the watermark (up to which candles are final) lags",
                i.watermark_age_seconds,
            ),
            ("mdp_ingestion_batches_committed", "Batches committed (all time)", i.batches_committed),
            ("mdp_ingestion_trades_ingested", "Trades ingested (all time)", i.trades_ingested),
            ("mdp_ingestion_failed_attempts", "Failed batch attempts (all time)", i.failed_attempts),
            (
                "mdp_ingestion_last_batch_duration_seconds",
                "Duration of the last batch",
                _seconds(i.last_batch_duration_ms),
            ),
            (
                "mdp_ingestion_last_error_time_seconds",
                "When the last error happened, Unix time",
                _unix(i.last_error_at),
            ),
        )
        for name, documentation, value in optional:
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value)

    def _latency(self) -> Iterator[Metric]:
        histogram = HistogramMetricFamily(
            "mdp_http_request_duration_seconds", "Request latency since start", labels=["method", "route"]
        )
        requests = CounterMetricFamily(
            "mdp_http_responses", "Responses since start", labels=["method", "route", "class"]
        )
        for route in self._routes:
            h = route.since_start_histogram
            cumulative = h.cumulative(EXPORTED_BOUNDS_MS)
            buckets = [(_le(bound), count) for bound, count in zip(EXPORTED_BOUNDS_MS, cumulative, strict=True)]
            buckets.append(("+Inf", h.count))
            histogram.add_metric([route.method, route.route], buckets, h.sum_ms / 1000)
            ok = h.count - h.errors_4xx - h.errors_5xx
            for status_class, value in (("ok", ok), ("4xx", h.errors_4xx), ("5xx", h.errors_5xx)):
                requests.add_metric([route.method, route.route, status_class], value)
        yield histogram
        yield requests


def _ranked(accept: str) -> list[str]:
    """Media types of an Accept header, highest quality first (stable for ties)."""
    entries = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            entries.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(entries)]


def _le(bound_ms: float) -> str:
    return f"{bound_ms / 1000:.6g}"


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _unix(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
