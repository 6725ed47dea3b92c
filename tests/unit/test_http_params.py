"""Query parameters: times with offsets or epoch millis in, naive times and junk out; cursors round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.ranges import rfc3339
from entrypoints.http.params import decode_cursor, encode_cursor, parse_instant
from tests.strategies import instants

offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(instants(), offsets)
def test_any_offset_means_the_same_instant_in_utc(moment: datetime, offset: timezone) -> None:
    parsed = parse_instant("start", moment.astimezone(offset).isoformat())
    assert parsed == moment and parsed.utcoffset() == timedelta(0)
    assert parse_instant("start", rfc3339(moment)) == moment


@given(st.integers(min_value=0, max_value=7_258_118_400_000))
def test_epoch_milliseconds_are_accepted(millis: int) -> None:
    assert parse_instant("end", str(millis)) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-29T12:00:00",
        "2026-11-29",
        "yesterday",
        "",
        "-1",
        "9" * 25,
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_naive_malformed_or_out_of_range_times_are_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_instant("start", text)
    assert raised.value.field == "start"


@given(instants(), st.integers(min_value=0, max_value=2**63 - 1))
def test_a_cursor_round_trips(moment: datetime, trade_id: int) -> None:
    assert decode_cursor(encode_cursor((moment, trade_id))) == (moment, trade_id)


@pytest.mark.parametrize("text", ["", "zzz", "!!", "MToyOjM", "LTE6MQ"])
def test_a_foreign_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        decode_cursor(text)
    assert raised.value.field == "cursor"
