"""The dashboard's SVG charts, rendered from a live API, draw exactly the candles of the trades stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import httpx

from domain.candles import Interval, candles_of
from entrypoints.http.dashboard.chart import HEIGHT, PAD
from tests.integration.html_page import Page
from tests.integration.market_data_support import insert_trades
from tests.integration.support import LiveServer

PIXEL = Decimal("0.01")


class Candlesticks(HTMLParser):
    """Per `svg[data-symbol]`, each `g[data-start]`: its start, its data-ohlc, and its wick's y1 and y2."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: dict[str, list[dict[str, str]]] = {}
        self._symbol: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "svg" and "data-symbol" in found:
            self._symbol = found["data-symbol"]
            self.charts[self._symbol] = []
        elif tag == "g" and "data-start" in found and self._symbol is not None:
            self.charts[self._symbol].append({"start": found["data-start"], "ohlc": found["data-ohlc"]})

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "line" and "wick" in found.get("class", "").split() and self._symbol is not None:
            self.charts[self._symbol][-1] |= {"y1": found["y1"], "y2": found["y2"]}

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._symbol = None


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_the_dashboard_charts_the_candles_of_the_trades(live_server: LiveServer, clean_db: str) -> None:
    # Well inside the chart's last hour, even if the render falls in the next minute.
    first = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=50)
    minutes_seconds = [(0, 5), (0, 40), (1, 0), (7, 1), (7, 20), (7, 30), (7, 59), (30, 59)]
    at = [first + timedelta(minutes=m, seconds=s) for m, s in minutes_seconds]
    prices = ["101.00", "107.00", "103.10", "103.00", "105.25", "101.50", "104.00", "100.00"]
    trades = insert_trades(clean_db, "AAPL", [(t, p, 3) for t, p in zip(at, prices, strict=True)])
    expected = candles_of(trades, Interval.parse("1m"))

    html = httpx.get(f"{live_server.base_url}/dashboard", timeout=10).text
    assert Page(html).errors == []
    charts = Candlesticks(html).charts
    assert [symbol for symbol, drawn in charts.items() if drawn] == ["AAPL"], "the other symbols have no trades"
    drawn = charts["AAPL"]

    assert len(drawn) == len(expected) == 4
    assert [g["start"] for g in drawn] == [z(c.start) for c in expected]
    assert [g["ohlc"] for g in drawn] == [f"{c.open} {c.high} {c.low} {c.close}" for c in expected]
    # The chart's own scale: the window's highest high at the top padding, its lowest low at the bottom.
    top, bottom = max(c.high for c in expected), min(c.low for c in expected)

    def y(price: Decimal) -> Decimal:
        return (PAD + (top - price) / (top - bottom) * (HEIGHT - 2 * PAD)).quantize(PIXEL)

    chosen = 2  # the minute whose high and low are neither its open nor its close
    candle, wick = expected[chosen], drawn[chosen]
    assert [candle.open, candle.high, candle.low, candle.close] == [
        Decimal(p) for p in ("103", "105.25", "101.5", "104")
    ]
    assert (Decimal(wick["y1"]), Decimal(wick["y2"])) == (y(candle.high), y(candle.low)) == (32, 92)
