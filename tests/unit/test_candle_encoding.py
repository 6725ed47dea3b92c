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
from tests.strategies import EPOCH_2026, trade_lists

MINUTE = Interval.parse("1m")
EPOCH = EPOCH_2026


def bars_of(trades: list[Trade]) -> list[Bar]:
    return [bar_of(c) for c in candles_of(trades, MINUTE)]


@given(trade_lists(), st.none() | st.integers(min_value=-120, max_value=240))
def test_shared_bytes_are_what_msgspec_writes_for_the_candles(trades: list[Trade], minutes: int | None) -> None:
    bars = bars_of(trades)
    watermark = None if minutes is None or not bars else bars[0].start + timedelta(minutes=minutes)
    shared = SharedEncoding()(bars, watermark)
    assert bytes(shared) == msgspec.json.encode(candle_outs(bars, watermark))
    assert msgspec.json.decode(bytes(shared), type=list[CandleOut]) == candle_outs(bars, watermark)


@given(
    st.lists(st.tuples(trade_lists(max_size=20), st.none() | st.integers(-30, 150)), min_size=1, max_size=8),
    st.booleans(),
)
def test_any_sequence_of_answers_gets_the_bytes_of_its_own_candles(
    answers: list[tuple[list[Trade], int | None]], repeat_each: bool
) -> None:
    """Reuse is safe whatever came before: the same bars again, an equal list, other bars, watermarks
    moving back and forth across the candles' ends."""
    encode = SharedEncoding()
    for trades, minutes in answers:
        bars = bars_of(trades)
        watermark = None if minutes is None else EPOCH + timedelta(minutes=minutes)
        for candidate in (bars, list(bars)) if repeat_each else (bars,):
            assert bytes(encode(candidate, watermark)) == msgspec.json.encode(candle_outs(candidate, watermark))


@given(trade_lists().filter(bool))
def test_equal_candles_are_encoded_once(trades: list[Trade]) -> None:
    encode = SharedEncoding()
    bars = bars_of(trades)
    last_end = max(bar.end for bar in bars)
    first = encode(bars, last_end)
    assert encode(bars, last_end) is first
    assert encode(list(bars), last_end) is first  # an equal list from the next read
    assert encode(bars, last_end + timedelta(seconds=1)) is first  # the watermark moved on, past every end
    before_the_last = encode(bars, last_end - timedelta(microseconds=1))
    assert before_the_last is not first
    assert b'"complete":false' in bytes(before_the_last)


def test_an_empty_answer_encodes_as_an_empty_list() -> None:
    assert bytes(SharedEncoding()([], datetime(2026, 11, 29).astimezone())) == b"[]"
