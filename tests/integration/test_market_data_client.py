"""The Python client against the real app over real HTTP: what it decodes equals what the domain computes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.candles import Candle, Interval, candles_of
from domain.trades import Trade
from market_data_client import ApiError, AsyncMarketDataClient, MarketDataClient
from market_data_client.contract import CandleOut, TradeOut
from tests.integration.market_data_support import insert_trades, set_watermark
from tests.integration.support import LiveServer

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
HOUR = (T0, T0 + timedelta(hours=1))
README = Path(__file__).parents[2] / "README.md"


def known_trades(clean_db: str) -> list[Trade]:
    """Two symbols over an hour; ties at one instant, prices on the tick; everything final by the watermark."""
    aapl = [(T0 + timedelta(seconds=37 * i), f"{100 + i % 9}.{(i * 7) % 100:02d}", 1 + i % 5) for i in range(90)]
    aapl.append((T0 + timedelta(seconds=37 * 10), "99.99", 3))  # same instant as the 11th trade
    msft = [(T0 + timedelta(seconds=61 * i), f"{400 + i % 3}.50", 2) for i in range(40)]
    trades = insert_trades(clean_db, "AAPL", aapl)
    insert_trades(clean_db, "MSFT", msft)
    set_watermark(clean_db, HOUR[1])
    return trades


def candle_out(c: Candle) -> CandleOut:
    """The domain's candle as /candles must render it: complete, since the watermark is past the hour."""
    return CandleOut(c.start, c.end, c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.vwap, True)


@pytest.mark.parametrize("interval", ["1m", "5m", "1h"])
def test_candles_through_the_client_equal_the_domains(live_server: LiveServer, clean_db: str, interval: str) -> None:
    trades = known_trades(clean_db)
    with MarketDataClient(live_server.base_url, timeout=10) as client:
        answer = client.candles("AAPL", interval, *HOUR)
    assert answer.candles == [candle_out(c) for c in candles_of(trades, Interval.parse(interval))]
    assert answer.watermark == HOUR[1] and answer.freshness.stale_after_seconds > 0


def test_iter_trades_through_the_client_equals_the_stored_trades(live_server: LiveServer, clean_db: str) -> None:
    trades = known_trades(clean_db)
    expected = [TradeOut(t.id, t.symbol, t.ts, t.price, t.volume) for t in sorted(trades, key=lambda t: (t.ts, t.id))]
    with MarketDataClient(live_server.base_url, timeout=10) as client:
        assert list(client.iter_trades("AAPL", *HOUR, limit=7)) == expected  # 13 pages
        frame = client.trades_frame("AAPL", *HOUR, limit=50)
    assert frame["price"].tolist() == [t.price for t in expected]


async def test_the_async_client_decodes_every_endpoint(live_server: LiveServer, clean_db: str) -> None:
    known_trades(clean_db)
    async with AsyncMarketDataClient(live_server.base_url, timeout=10) as client:
        assert "AAPL" in await client.symbols()
        assert (await client.health()).status == "ok"
        assert (await client.ready()).db_healthy
        status = await client.status()
        metrics = await client.metrics()
        filled = await client.candles("MSFT", "1d", *HOUR, tz="America/New_York", fill="previous")
        with pytest.raises(ApiError) as raised:
            await client.candles("AAPL", "2m", *HOUR)
    assert status.watermark == HOUR[1] and status.db_healthy
    assert metrics.ingestion.watermark == HOUR[1] and metrics.instance_id == status.instance_id
    assert (filled.tz, filled.fill, len(filled.candles)) == ("America/New_York", "previous", 1)
    assert raised.value.status == 400 and "interval" in raised.value.invalid_params


def readme_example() -> str:
    """The first python block of the README's Python client section, as written."""
    section = README.read_text().split("## Python client", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README.md: no python block in the Python client section"
    return match.group(1)


def test_the_readme_example_runs_as_written(
    live_server: LiveServer, clean_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    trades = known_trades(clean_db)
    monkeypatch.setenv("MDP_URL", live_server.base_url)
    exec(compile(readme_example(), str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    first = candles_of(trades, Interval.parse("1m"))[0]
    assert lines[0] == f"{first.start} {first.open} {first.close} {first.vwap} True"
    assert lines[3] == f"{sum(t.volume for t in trades)} shares traded"
    assert lines[4].startswith("400 {'interval': ")
    assert len(lines) == 5
