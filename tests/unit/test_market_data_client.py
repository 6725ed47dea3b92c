"""The client against canned HTTP answers (httpx.MockTransport): decoding, paging, typed errors, bounded retries."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from market_data_client import ApiError, AsyncMarketDataClient, MarketDataClient, PandasMissing
from market_data_client.contract import (
    CandleOut,
    CandlesResponse,
    Counts,
    FreshnessOut,
    IngestionStats,
    Latency,
    MetricsResponse,
    TradeOut,
    TradesResponse,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, sleeps: list[float] | None = None, **options: Any) -> MarketDataClient:
    record = sleeps if sleeps is not None else []
    return MarketDataClient(
        "http://api.test",
        transport=httpx.MockTransport(handler),
        sleep=record.append,
        **options,
    )


def json_response(body: msgspec.Struct, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=msgspec.json.encode(body), headers={"Content-Type": "application/json"})


def problem(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, object] = {"title": "Invalid request", "status": status, "detail": "end: must be after start"}
    if status == 400:
        body["invalid_params"] = [{"name": "end", "reason": "after start"}]
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json", **(headers or {})})


CANDLE = CandleOut(
    T0, T0 + timedelta(minutes=1), Decimal("100.25"), Decimal("101.50"), Decimal("99.75"), Decimal("101.00"),
    30, 3, Decimal("100.416667"), True,
)  # fmt: skip
FRESH = FreshnessOut("alive", T0, 0.5, 30.0, T0, 1.0)
CANDLES = CandlesResponse("AAPL", "1m", T0, T0 + timedelta(minutes=1), T0, [CANDLE], FRESH, T0 + timedelta(hours=1))


def trade(i: int) -> TradeOut:
    return TradeOut(i, "AAPL", T0 + timedelta(seconds=i), Decimal(f"{100 + i}.25"), i + 1)


def test_candles_decode_into_the_contract_with_decimal_prices_and_aware_times() -> None:
    with client(lambda _: json_response(CANDLES)) as api:
        answer = api.candles("AAPL", "1m", T0, T0 + timedelta(minutes=1))
    assert answer == CANDLES
    candle = answer.candles[0]
    assert isinstance(candle.close, Decimal) and candle.vwap == Decimal("100.416667")
    assert candle.bucket_start.tzinfo is not None and candle.bucket_start == T0


def test_candles_send_every_parameter() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(CANDLES)

    with client(handler) as api:
        api.candles("AAPL", "1d", T0, "1764417600000", tz="America/New_York", fill="previous")
    assert seen[0].url.path == "/candles"
    assert dict(seen[0].url.params) == {
        "symbol": "AAPL",
        "interval": "1d",
        "start": "2026-11-20T10:00:00+00:00",
        "end": "1764417600000",
        "tz": "America/New_York",
        "fill": "previous",
    }


def test_a_naive_time_is_refused_before_any_request() -> None:
    with client(lambda _: pytest.fail("no request expected")) as api, pytest.raises(ValueError, match="start must"):
        api.candles("AAPL", "1m", datetime(2026, 11, 20), T0)


def test_iter_trades_follows_the_cursor_until_it_is_null() -> None:
    pages = {None: ([trade(1), trade(2)], "c1"), "c1": ([trade(3), trade(4)], "c2"), "c2": ([trade(5)], None)}
    cursors: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        cursors.append(cursor)
        assert request.url.params["limit"] == "2"
        trades, after = pages[cursor]
        return json_response(TradesResponse("AAPL", T0, T0 + timedelta(hours=1), 2, trades, after))

    with client(handler) as api:
        got = list(api.iter_trades("AAPL", T0, T0 + timedelta(hours=1), limit=2))
    assert got == [trade(i) for i in range(1, 6)]
    assert cursors == [None, "c1", "c2"]


def test_a_4xx_raises_api_error_carrying_the_problem_details() -> None:
    with client(lambda _: problem(400)) as api, pytest.raises(ApiError) as raised:
        api.trades("AAPL", T0 + timedelta(hours=1), T0)
    assert raised.value.status == 400
    assert raised.value.problem is not None and raised.value.problem.detail == "end: must be after start"
    assert raised.value.invalid_params == {"end": "after start"}
    assert str(raised.value) == "HTTP 400: Invalid request: end: must be after start"


def test_an_error_without_problem_details_still_raises_api_error_with_the_body() -> None:
    with (
        client(lambda _: httpx.Response(502, text="<html>bad gateway</html>")) as api,
        pytest.raises(ApiError) as raised,
    ):
        api.symbols()
    assert raised.value.status == 502 and raised.value.problem is None
    assert "bad gateway" in str(raised.value)


def test_a_503_is_retried_after_its_retry_after() -> None:
    answers = iter([problem(503, {"Retry-After": "5"}), httpx.Response(200, json={"symbols": ["AAPL", "MSFT"]})])
    sleeps: list[float] = []
    with client(lambda _: next(answers), sleeps) as api:
        assert api.symbols() == ["AAPL", "MSFT"]
    assert sleeps == [5.0]


def test_retries_are_bounded_then_the_503_is_raised() -> None:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return problem(503, {"Retry-After": "120"})

    with client(handler, sleeps, retry_attempts=3, max_retry_wait=10.0) as api, pytest.raises(ApiError) as raised:
        api.status()
    assert raised.value.status == 503
    assert len(requests) == 3
    assert sleeps == [10.0, 10.0]  # capped by max_retry_wait


def test_retry_after_as_an_http_date_and_other_errors_are_not_retried() -> None:
    date = {"Date": "Sun, 29 Nov 2026 12:00:00 GMT", "Retry-After": "Sun, 29 Nov 2026 12:00:03 GMT"}
    answers = iter([problem(503, date), problem(500)])
    sleeps: list[float] = []
    with client(lambda _: next(answers), sleeps) as api, pytest.raises(ApiError) as raised:
        api.health()
    assert sleeps == [3.0]
    assert raised.value.status == 500


def test_status_and_metrics_decode_and_metrics_asks_for_json() -> None:
    stats = IngestionStats(
        status="alive", heartbeat_at=T0, heartbeat_age_seconds=0.1, last_trade_at=T0, seconds_since_last_trade=0.2,
        stale_after_seconds=30.0, interval_seconds=1.0, db_healthy=True, db_latency_ms=1.5, db_error=None,
        figures_source="database", figures_read_at=T0, started_at=T0, uptime_seconds=12.0, instance_id="i-1",
        batches_committed=3, trades_ingested=30, last_batch_trades=10, last_batch_duration_ms=4.0,
        failed_attempts=0, last_error=None, last_error_at=None,
    )  # fmt: skip
    metrics = MetricsResponse(
        instance_id="i-1", version="0.1.0", started_at=T0, uptime_seconds=12.0, db_healthy=True,
        db_latency_ms=1.5, db_error=None, counts=Counts(trades=30, candles=7, exact=True, source="database",
        read_at=T0), ingestion=stats, latency=Latency(window_seconds=60, routes=[]), is_ingestion_leader=True,
    )  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/metrics":
            assert request.headers["accept"] == "application/json"
            return json_response(metrics)
        return json_response(stats)  # /status/ingestion: a superset decodes into the smaller type

    with client(handler) as api:
        assert api.metrics() == metrics
        status = api.status()
    assert status.status == "alive" and status.heartbeat_at == T0 and status.instance_id == "i-1"


async def test_the_async_client_pages_and_retries_the_same_way() -> None:
    answers = iter(
        [
            problem(503, {"Retry-After": "2"}),
            json_response(TradesResponse("AAPL", T0, T0, 1, [trade(1)], "c1")),
            json_response(TradesResponse("AAPL", T0, T0, 1, [trade(2)], None)),
        ]
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = httpx.MockTransport(lambda _: next(answers))
    async with AsyncMarketDataClient("http://api.test", transport=transport, sleep=sleep) as api:
        got = [t async for t in api.iter_trades("AAPL", T0, T0 + timedelta(hours=1), limit=1)]
    assert got == [trade(1), trade(2)]
    assert sleeps == [2.0]


def test_frames_keep_exact_prices_and_utc_times() -> None:
    page = TradesResponse("AAPL", T0, T0, 10, [trade(1), trade(2)], None)
    with client(lambda r: json_response(CANDLES if r.url.path == "/candles" else page)) as api:
        candles = api.candles_frame("AAPL", "1m", T0, T0 + timedelta(minutes=1))
        trades = api.trades_frame("AAPL", T0, T0 + timedelta(hours=1))
    assert list(candles.columns) == list(CandleOut.__struct_fields__)
    assert candles["close"].tolist() == [Decimal("101.00")]
    assert str(candles["bucket_start"].dtype) == "datetime64[ns, UTC]"
    assert trades["price"].tolist() == [Decimal("101.25"), Decimal("102.25")]
    assert trades["timestamp"].iloc[0] == T0 + timedelta(seconds=1)


def test_frames_without_pandas_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    with client(lambda _: pytest.fail("no request expected")) as api, pytest.raises(PandasMissing) as raised:
        api.candles_frame("AAPL", "1m", T0, T0 + timedelta(minutes=1))
    assert "pip install 'market-data-platform[pandas]'" in str(raised.value)
    assert isinstance(raised.value, ImportError)


def test_the_async_client_has_the_sync_clients_methods() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in vars(cls) if not name.startswith("_")}

    assert public(AsyncMarketDataClient) - {"aclose"} == public(MarketDataClient) - {"close"}


def test_not_ready_is_an_answer_not_an_error_and_is_not_retried() -> None:
    body = {"status": "not_ready", "db_healthy": False, "reason": "database: refused"}
    sleeps: list[float] = []
    with client(lambda _: httpx.Response(503, json=body, headers={"Retry-After": "5"}), sleeps) as api:
        answer = api.ready()
    assert (answer.status, answer.db_healthy, answer.reason, answer.db_latency_ms) == (
        "not_ready",
        False,
        "database: refused",
        None,
    )
    assert sleeps == []
