"""Bulk loading of trades with COPY: the fast path for backfills."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import psycopg

from adapters.postgres.url import libpq_url
from domain.trades import RawTrade

COPY_TRADES = "COPY trades (symbol, ts, price, volume) FROM STDIN"


def copy_text(rows: Sequence[RawTrade]) -> bytes:
    """COPY text lines for compact trades; prices printed from integer ticks, exactly."""
    lines = []
    second = -1
    stamp = ""
    for symbol, ts_us, ticks, volume in rows:
        whole, micros = divmod(ts_us, 1_000_000)
        if whole != second:  # rows come grouped by symbol and time: format each second once
            second, stamp = whole, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))
        lines.append(f"{symbol}\t{stamp}.{micros:06d}+00\t{ticks // 100}.{ticks % 100:02d}\t{volume}\n")
    return "".join(lines).encode()


class PostgresTradeCopier:
    """Streams chunks of trades into `trades` with one COPY in one transaction: all or nothing."""

    def __init__(self, url: str) -> None:
        self._url = libpq_url(url)

    def earliest_ts(self) -> datetime | None:
        with psycopg.connect(self._url) as conn:
            row = conn.execute("SELECT min(ts) FROM trades").fetchone()
            return row[0] if row else None

    def copy(
        self,
        chunks: Iterable[Sequence[RawTrade]],
        span: tuple[datetime, datetime],
        on_chunk: Callable[[int], None] = lambda _: None,
    ) -> int:
        total = 0
        with psycopg.connect(self._url) as conn, conn.transaction():
            conn.execute("SELECT ensure_trade_partitions(%s, %s)", span)
            with conn.cursor() as cursor, cursor.copy(COPY_TRADES) as copy:
                for chunk in chunks:
                    copy.write(copy_text(chunk))
                    total += len(chunk)
                    on_chunk(len(chunk))
        return total
