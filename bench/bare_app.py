"""The baseline of bench/throughput.py: one async Litestar handler, served by `uvicorn.run(app)` with its defaults.

Usage: .venv/bin/python bench/bare_app.py PORT REPORT_FILE [--access-log on|off]

Nothing but the framework and the server: no database, no dependency, no middleware. uvicorn picks the
loop and the HTTP protocol ("auto": uvloop and httptools when installed); which ones it got is written
to REPORT_FILE once the app has started. The access log is uvicorn's default (on); the service turns it off.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn
from litestar import Litestar, get
from uvicorn.protocols.http.auto import AutoHTTPProtocol

PATH = "/bare"
PAYLOAD = {
    "symbol": "AAPL",
    "interval": "1m",
    "bucket_start": "2026-01-02T15:04:00Z",
    "bucket_end": "2026-01-02T15:05:00Z",
    "open": "187.25",
    "high": "187.90",
    "low": "186.95",
    "close": "187.60",
    "volume": 12400,
    "trade_count": 310,
    "vwap": "187.412903",
    "complete": True,
    "filled": False,
    "note": "a bare handler: no database, no middleware",
}
"""What it answers: about 300 bytes of JSON, shaped like one candle."""


@get(PATH)
async def bare() -> dict[str, object]:
    return PAYLOAD


def app(report: Path) -> Litestar:
    def note_loop() -> None:
        loop = type(asyncio.get_running_loop())
        report.write_text(f"loop={loop.__module__}.{loop.__qualname__} http={AutoHTTPProtocol.__name__}")

    return Litestar([bare], on_startup=[note_loop])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("report", type=Path)
    parser.add_argument("--access-log", choices=["on", "off"], default="on")
    args = parser.parse_args()
    if args.access_log == "on":  # uvicorn's default
        uvicorn.run(app(args.report), host="127.0.0.1", port=args.port)
    else:
        uvicorn.run(app(args.report), host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
