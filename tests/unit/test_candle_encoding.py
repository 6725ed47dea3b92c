"""The candles array encoded once and shared: the body must be the very bytes msgspec writes for the list."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from domain.candles import Interval, candles_of
from domain.series import Bar, bar_of
from domain.trades import Trade
from entrypoints.http.routes.candles import SharedEncoding, candle_outs
from market_data_client.contract import CandleOut
from tests.strategies import trade_lists

MINUTE = Interval.parse("1m")


def bars_of(trades: list[Trade]) -> list[Bar]:
    return [bar_of(c) for c in candles_of(trades, MINUTE)]


@given(trade_lists(), st.none() | st.integers(min_value=-120, max_value=240))
def test_shared_bytes_are_what_msgspec_writes_for_the_candles(trades: list[Trade], minutes: int | None) -> None:
    bars = bars_of(trades)
    watermark = None if minutes is None or not bars else bars[0].start + timedelta(minutes=minutes)
    shared = SharedEncoding()(bars, watermark)
    assert bytes(shared) == msgspec.json.encode(candle_outs(bars, watermark))
    assert msgspec.json.decode(bytes(shared), type=list[CandleOut]) == candle_outs(bars, watermark)


@given(trade_lists().filter(bool))
def test_the_same_bars_are_encoded_once_and_anything_else_anew(trades: list[Trade]) -> None:
    encode = SharedEncoding()
    bars = bars_of(trades)
    watermark = bars[-1].end
    first = encode(bars, watermark)
    assert encode(bars, watermark) is first
    assert encode(list(bars), watermark) is not first  # an equal list from another read is not trusted blindly
    earlier = encode(bars, bars[0].start)
    assert earlier is not first
    assert bytes(earlier) == msgspec.json.encode(candle_outs(bars, bars[0].start))


def test_an_empty_answer_encodes_as_an_empty_list() -> None:
    assert bytes(SharedEncoding()([], datetime(2026, 11, 29).astimezone())) == b"[]"
