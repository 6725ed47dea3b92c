"""Named hypothesis builders for domain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from domain.candles import INTERVALS, Interval
from domain.ranges import TimeRange
from domain.trades import SUPPORTED_SYMBOLS, TICK, Trade

EPOCH_2026 = datetime(2026, 1, 1, tzinfo=UTC)


def symbols() -> st.SearchStrategy[str]:
    return st.sampled_from(SUPPORTED_SYMBOLS)


def prices(max_ticks: int = 10_000_000) -> st.SearchStrategy[Decimal]:
    """Positive prices on the tick, from 0.01 up."""
    return st.integers(min_value=1, max_value=max_ticks).map(lambda ticks: Decimal(ticks) * TICK)


def volumes() -> st.SearchStrategy[int]:
    return st.integers(min_value=1, max_value=1_000_000)


def instants(start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2)) -> st.SearchStrategy[datetime]:
    """UTC instants with microsecond resolution in [start, start + span)."""
    micros = int(span.total_seconds() * 1_000_000) - 1
    return st.integers(min_value=0, max_value=micros).map(lambda us: start + timedelta(microseconds=us))


def trades(
    symbol: str = "AAPL", start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2)
) -> st.SearchStrategy[Trade]:
    return st.builds(Trade, st.just(symbol), instants(start, span), prices(), volumes())


def trade_lists(
    symbol: str = "AAPL", start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2), max_size: int = 60
) -> st.SearchStrategy[list[Trade]]:
    """Trades with unique ids in list order (ids break timestamp ties, as storage does)."""
    return st.lists(trades(symbol, start, span), max_size=max_size).map(
        lambda items: [Trade(t.symbol, t.ts, t.price, t.volume, i + 1) for i, t in enumerate(items)]
    )


def intervals(max_seconds: int = 86_400) -> st.SearchStrategy[Interval]:
    """Supported candle intervals, up to `max_seconds` wide."""
    return st.sampled_from([i for i in INTERVALS if i.seconds <= max_seconds])


def edgy_instants(start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2)) -> st.SearchStrategy[datetime]:
    """Instants that like bucket edges: exact minute marks and one microsecond either side."""
    minutes = int(span.total_seconds() // 60)
    marks = st.integers(min_value=1, max_value=minutes - 1).map(lambda m: start + timedelta(minutes=m))
    nudged = st.tuples(marks, st.sampled_from([-1, 0, 1])).map(lambda p: p[0] + timedelta(microseconds=p[1]))
    return st.one_of(nudged, instants(start, span))


def clustered_trade_lists(
    symbol: str = "AAPL", start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2), max_size: int = 60
) -> st.SearchStrategy[list[Trade]]:
    """Trades crowded onto a few instants (many timestamp ties) near bucket edges, ids in list order."""
    pools = st.lists(edgy_instants(start, span), min_size=1, max_size=6, unique=True)
    return pools.flatmap(
        lambda pool: st.lists(
            st.builds(Trade, st.just(symbol), st.sampled_from(pool), prices(), volumes()), max_size=max_size
        )
    ).map(lambda items: [Trade(t.symbol, t.ts, t.price, t.volume, i + 1) for i, t in enumerate(items)])


def time_ranges(start: datetime = EPOCH_2026, span: timedelta = timedelta(hours=2)) -> st.SearchStrategy[TimeRange]:
    """Valid request windows `[start, end)` inside the given span, edges included."""
    return (
        st.tuples(edgy_instants(start, span), edgy_instants(start, span))
        .filter(lambda p: p[0] != p[1])
        .map(lambda p: TimeRange(min(p), max(p)))
    )


@st.composite
def request_heads(draw: st.DrawFn, longest: int = 80, most: int = 8) -> bytes:
    """A request head with CRLF line ends: maybe blank lines first, a request line, header lines, the blank line."""
    blanks = b"\r\n" * draw(st.integers(min_value=0, max_value=2))
    target = b"/" + b"a" * draw(st.integers(min_value=0, max_value=longest))
    values = draw(st.lists(st.integers(min_value=0, max_value=longest // 2), max_size=most))
    headers = b"".join(b"X-%d: %s\r\n" % (i, b"v" * size) for i, size in enumerate(values))
    return blanks + b"GET " + target + b" HTTP/1.1\r\n" + headers + b"\r\n"


def splits(size: int) -> st.SearchStrategy[list[int]]:
    """Sorted cut positions in a byte string of `size`: how a network might deliver it."""
    return st.lists(st.integers(min_value=0, max_value=size), max_size=12).map(sorted)
