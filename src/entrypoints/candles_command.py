"""`mdp candles rebuild`: recompute stored candles from the trades and say how many differed."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from tqdm import tqdm

from adapters.postgres.bulk import PostgresCandleRebuilder
from domain.trades import SUPPORTED_SYMBOLS
from entrypoints.arguments import utc_time
from entrypoints.settings import Settings


def add_candles_command(commands: Any) -> None:
    candles = commands.add_parser(
        "candles",
        help="maintain stored candles (rebuild them from the trades)",
        description="Stored candles are written with the trades; these commands repair them by hand.",
    )
    actions = candles.add_subparsers(title="actions", metavar="ACTION", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="recompute stored candles from the trades and report how many differed",
        description="Recompute every stored candle (1m to 1d) from the trades, one symbol-day per transaction, "
        "while ingestion runs. Reports how many stored candles were missing, wrong or left over. "
        "Needed only after trades were written with triggers disabled.",
    )
    rebuild.add_argument("--symbol", choices=SUPPORTED_SYMBOLS, help="only this symbol (default: all)")
    rebuild.add_argument(
        "--since", type=utc_time, help="only buckets from this time on, ISO 8601 with offset (default: all)"
    )
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.database import database, ensure_schema

    with database(settings) as db:
        ensure_schema(db.url, settings.migrate_on_start)
        rebuilder = PostgresCandleRebuilder(db.url)
        days = rebuilder.days(args.symbol, args.since)
        began, differed = time.perf_counter(), 0
        with tqdm(total=len(days), unit="symbol-days", disable=not sys.stderr.isatty()) as bar:
            for symbol, lo, hi in days:
                differed += rebuilder.rebuild(symbol, lo, hi)
                bar.update()
        elapsed = time.perf_counter() - began
    print(f"rebuilt the candles of {len(days):,} symbol-days in {elapsed:.1f}s: {differed:,} stored candles differed")
    return 0
