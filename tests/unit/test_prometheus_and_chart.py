"""Content negotiation of /metrics, the Prometheus rendering, and the dashboard's candle chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from application.ingestion_status import FiguresSource, IngestionReport
from application.ports import DatabaseHealth, StoreStatistics
from domain.freshness import assess_freshness
from domain.heartbeat import Heartbeat
from entrypoints.http import prometheus
from entrypoints.http.dashboard.chart import build_chart
from entrypoints.http.latency import LatencyRecorder
from entrypoints.http.status_responses import Runtime, metrics_response
from market_data_client.contract import CandleOut

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", None),
        ("*/*", None),
        ("application/json", None),
        ("text/html,application/xhtml+xml,*/*;q=0.8", None),
        ("text/plain", "text/plain"),
        ("text/plain;version=0.0.4", "text/plain"),
        ("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", prometheus.OPENMETRICS),
        ("application/json, text/plain;q=0.5", None),
    ],
)
def test_json_stays_the_default_unless_a_text_format_is_preferred(accept: str, expected: str | None) -> None:
    assert prometheus.wants_prometheus(accept) == expected


def test_the_prometheus_text_carries_the_same_figures() -> None:
    heartbeat = Heartbeat(NOW, NOW, 4, 40, 10, 8.0, failed_attempts=2)
    report = IngestionReport(
        assess_freshness(heartbeat, NOW, 1.0), StoreStatistics(heartbeat, 40, 3), FiguresSource.LIVE, NOW, None
    )
    recorder = LatencyRecorder(lambda: 5.0)
    for ms in (1.0, 2.0, 400.0):
        recorder.record("GET", "/candles", ms, 200)
    routes = recorder.snapshot()
    body = metrics_response(report, DatabaseHealth(True, 1.5, None), Runtime("replica-a", "0.1.0", NOW), routes)
    text, content_type = prometheus.render(body, routes, "text/plain")
    assert content_type.startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }
    assert samples[("mdp_rows", (("table", "trades"),))] == 40
    assert samples[("mdp_ingestion_failed_attempts", ())] == 2
    assert samples[("mdp_db_healthy", ())] == 1
    assert samples[("mdp_http_request_duration_seconds_count", (("method", "GET"), ("route", "/candles")))] == 3
    le_1ms = (("le", "0.0008"), ("method", "GET"), ("route", "/candles"))
    assert samples[("mdp_http_request_duration_seconds_bucket", le_1ms)] == 0
    openmetrics, media = prometheus.render(body, routes, prometheus.OPENMETRICS)
    assert media.startswith(prometheus.OPENMETRICS)
    assert openmetrics.endswith(b"# EOF\n")


def _candle(start: datetime, open_: str, high: str, low: str, close: str) -> CandleOut:
    prices = [Decimal(p) for p in (open_, high, low, close)]
    end = start + timedelta(minutes=1)
    return CandleOut(start, end, *prices, volume=10, trade_count=2, vwap=prices[3], complete=True)


def test_the_chart_scales_exact_prices_into_the_box() -> None:
    candles = [
        _candle(datetime(2026, 11, 29, 11, 58, tzinfo=UTC), "100.00", "101.50", "99.00", "101.00"),
        _candle(datetime(2026, 11, 29, 11, 59, tzinfo=UTC), "101.00", "101.00", "98.00", "98.50"),
    ]
    chart = build_chart("AAPL", candles, datetime(2026, 11, 29, 11, 0, tzinfo=UTC))
    assert chart.error is None
    assert (chart.low, chart.high, chart.last_close) == ("98.00", "101.50", "98.50")
    first, second = chart.shapes
    assert first.rising and not second.rising
    assert (first.x, second.x) == (585.0, 595.0)  # minutes 58 and 59 of 60 slots, 10 px each
    assert first.wick_top == 4.0  # the highest high touches the top padding
    assert second.wick_bottom == 116.0  # the lowest low touches the bottom padding
    # The page's script keys candles from /candles/stream by bucket_start exactly as the API encodes it.
    assert first.start == "2026-11-29T11:58:00Z"
    assert first.prices == ("100.00", "101.50", "99.00", "101.00")


def test_no_candles_give_a_chart_with_a_reason() -> None:
    chart = build_chart("AAPL", [], NOW)
    assert chart.shapes == []
    assert chart.error == "no candles in the last hour"
