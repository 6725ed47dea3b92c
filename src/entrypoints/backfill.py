"""`mdp backfill`: N hours or days of synthetic history before the oldest stored trade."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from adapters.postgres.bulk import PostgresTradeCopier
from adapters.synthetic.source import SyntheticTradeSource
from domain.ranges import to_micros
from domain.trades import SUPPORTED_SYMBOLS, RawTrade
from entrypoints.arguments import positive, utc_time
from entrypoints.settings import Settings

CHUNK_SECONDS = 60


def add_backfill_command(commands: Any) -> None:
    backfill = commands.add_parser(
        "backfill",
        help="bulk-load synthetic history (COPY) ending at the oldest stored trade, or now",
        description="Generate synthetic trades for a past span and load them with COPY in one transaction.",
    )
    span = backfill.add_mutually_exclusive_group(required=True)
    span.add_argument("--hours", type=positive(), help="span of history in hours")
    span.add_argument("--days", type=positive(), help="span of history in days")
    backfill.add_argument("--rate", type=positive(), default=20.0, help="trades per second per symbol (default 20)")
    backfill.add_argument("--seed", type=int, default=None, help="random seed: the same seed gives the same trades")
    backfill.add_argument(
        "--end",
        type=utc_time,
        default=None,
        help="end of the span, ISO 8601 with offset (default: oldest stored trade, or now)",
    )
    backfill.set_defaults(handler=run_backfill)


def run_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.database import database, ensure_schema

    span = timedelta(hours=args.hours) if args.hours else timedelta(days=args.days)
    with database(settings) as db:
        ensure_schema(db.url, settings.migrate_on_start)
        copier = PostgresTradeCopier(db.url)
        now = datetime.now(UTC)
        if args.end is not None and args.end > now:
            print(
                f"mdp backfill: --end {args.end.isoformat()} is in the future; backfill loads history", file=sys.stderr
            )
            return 2
        end = args.end or copier.earliest_ts() or now
        start = end - span
        source = SyntheticTradeSource(SUPPORTED_SYMBOLS, start=start, trades_per_second=args.rate, seed=args.seed)
        expected = int(args.rate * len(SUPPORTED_SYMBOLS) * span.total_seconds())
        print(f"backfilling {start.isoformat()} .. {end.isoformat()} (~{expected:,} trades)", file=sys.stderr)
        began = time.perf_counter()
        with tqdm(total=expected, unit="trades", unit_scale=True, disable=not sys.stderr.isatty()) as bar:
            total = copier.copy(chunks(source, start, end), (start, end), bar.update)
        elapsed = time.perf_counter() - began
    print(f"backfilled {total:,} trades in {elapsed:.1f}s ({total / max(elapsed, 1e-9):,.0f} trades/s)")
    return 0


def chunks(source: SyntheticTradeSource, start: datetime, end: datetime) -> Iterator[list[RawTrade]]:
    """The source's trades in [start, end), a minute at a time."""
    first, last = to_micros(start), to_micros(end) - 1
    steps = max(1, math.ceil((last - first) / (CHUNK_SECONDS * 1_000_000)))
    for step in range(1, steps + 1):
        yield source.generate(min(last, first + step * CHUNK_SECONDS * 1_000_000))
