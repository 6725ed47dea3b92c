"""Backfill throughput against a raw psycopg COPY of the same rows into the same table.

Usage: .venv/bin/python bench/backfill_vs_copy.py [--hours 2] [--rate 20] [--rounds 3]

Starts a throw-away embedded PostgreSQL (or uses DATABASE_URL, in a database of
its own), migrates it, then alternates three loaders of the very same trades:
  backfill   - what `mdp backfill` runs: generate with the synthetic source and
               stream COPY text, generation included in the time
  write_row  - raw psycopg COPY of pre-generated typed rows (str, datetime, Decimal, int)
  raw bytes  - raw psycopg COPY of pre-formatted text: PostgreSQL's own ceiling
Each round truncates the table first; the median of the rounds is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from adapters.postgres.bulk import COPY_TRADES, PostgresTradeCopier, copy_text
from adapters.postgres.url import libpq_url
from adapters.synthetic.source import SyntheticTradeSource
from domain.trades import SUPPORTED_SYMBOLS, from_raw
from entrypoints.backfill import chunks
from harness import own_database, postgres_server

END = datetime(2026, 11, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with postgres_server() as server_url:
        run(own_database(server_url), args)


def run(url: str, args: argparse.Namespace) -> None:
    start = END - timedelta(hours=args.hours)

    def source() -> SyntheticTradeSource:
        return SyntheticTradeSource(SUPPORTED_SYMBOLS, start=start, trades_per_second=args.rate, seed=42)

    raw_chunks = list(chunks(source(), start, END))
    rows = sum(len(c) for c in raw_chunks)
    typed = [[(t.symbol, t.ts, t.price, t.volume) for t in map(from_raw, c)] for c in raw_chunks]
    text = [copy_text(c) for c in raw_chunks]
    copier = PostgresTradeCopier(url)
    libpq = libpq_url(url)

    def backfill() -> None:
        assert copier.copy(chunks(source(), start, END), (start, END)) == rows

    def write_row() -> None:
        with psycopg.connect(libpq) as conn, conn.transaction():
            conn.execute("SELECT ensure_trade_partitions(%s, %s)", (start, END))
            with conn.cursor() as cur, cur.copy(COPY_TRADES) as copy:
                for chunk in typed:
                    for row in chunk:
                        copy.write_row(row)

    def raw_bytes() -> None:
        with psycopg.connect(libpq) as conn, conn.transaction():
            conn.execute("SELECT ensure_trade_partitions(%s, %s)", (start, END))
            with conn.cursor() as cur, cur.copy(COPY_TRADES) as copy:
                for block in text:
                    copy.write(block)

    loaders: dict[str, Callable[[], None]] = {"backfill": backfill, "write_row": write_row, "raw bytes": raw_bytes}
    timings: dict[str, list[float]] = {name: [] for name in loaders}
    for _ in range(args.rounds):
        for name, load in loaders.items():
            with psycopg.connect(libpq, autocommit=True) as conn:
                conn.execute("TRUNCATE trades")
                conn.execute("CHECKPOINT")
            began = time.perf_counter()
            load()
            timings[name].append(time.perf_counter() - began)
    report(rows, timings)


def report(rows: int, timings: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(t) for name, t in timings.items()}
    print(f"rows per load: {rows:,}   rounds: {len(next(iter(timings.values())))}")
    print(f"{'loader':<10} {'median s':>9} {'rows/s':>10}")
    for name, seconds in medians.items():
        print(f"{name:<10} {seconds:>9.2f} {rows / seconds:>10,.0f}")
    print(f"backfill / write_row COPY: {medians['write_row'] / medians['backfill']:.2f}x throughput")
    print(f"backfill / raw bytes COPY: {medians['raw bytes'] / medians['backfill']:.2f}x throughput (target >= 0.60)")


if __name__ == "__main__":
    main()
