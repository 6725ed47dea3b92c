"""Cost of the latency middleware: the same app with and without it, side by side, on the cheapest route.

Usage: .venv/bin/python bench/middleware_overhead.py [--rounds 20] [--requests 2000] [--path /health]

Builds the real app twice (`create_app(..., measure_latency=True/False)`) and
calls each directly as an ASGI application, without a server or a socket, so
that nothing but the app is timed: `/health` answers without the database, so
the middleware's share is as large as it can be on any route. Rounds alternate
which app goes first; the median per-request time over the rounds is reported.
For scale, a second table puts the bare `/health` route alone, behind a no-op
ASGI middleware (what Litestar charges for having any middleware) and behind
the latency middleware.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.http.latency import LatencyMiddleware, LatencyRecorder
from entrypoints.http.routes import health
from entrypoints.settings import load_settings

# Never contacted: /health does not touch the database, and no resource is started.
UNUSED_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/unused"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--path", default="/health")
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    settings = load_settings({}, database_url=UNUSED_DATABASE, ingestion_enabled=False)
    apps = {
        "with middleware": create_app(build_container(settings, UNUSED_DATABASE), measure_latency=True),
        "without": create_app(build_container(settings, UNUSED_DATABASE), measure_latency=False),
    }
    per_request = await compare(apps, args)
    with_mw, without = per_request["with middleware"], per_request["without"]
    print(f"GET {args.path}, {args.rounds} rounds x {args.requests} requests, direct ASGI calls")
    print(f"  the app with the latency middleware: {with_mw:8.1f} us per request")
    print(f"  the same app without it:             {without:8.1f} us per request")
    print(f"  overhead: {with_mw - without:+.1f} us per request, ratio {with_mw / without:.3f}")
    bare = await compare(
        {
            "no middleware": Litestar([health.health]),
            "a no-op middleware": Litestar([health.health], middleware=[Noop]),
            "the latency middleware": Litestar(
                [health.health], middleware=[DefineMiddleware(LatencyMiddleware, recorder=LatencyRecorder())]
            ),
        },
        args,
    )
    print("GET /health alone in a bare Litestar app:")
    for name, micros in bare.items():
        print(f"  {name + ':':<28}{micros:8.1f} us per request")


class Noop:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def compare(apps: dict[str, Litestar], args: argparse.Namespace) -> dict[str, float]:
    """Median microseconds per request of each app, in rounds that alternate their order."""
    per_request: dict[str, list[float]] = {name: [] for name in apps}
    for app in apps.values():
        await timed(app, args.path, 200)  # warm up
    for round_number in range(args.rounds):
        order = list(apps.items()) if round_number % 2 == 0 else list(reversed(apps.items()))
        for name, app in order:
            per_request[name].append(await timed(app, args.path, args.requests) / args.requests)
    return {name: statistics.median(values) * 1e6 for name, values in per_request.items()}


def http_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def timed(app: Litestar, path: str, requests: int) -> float:
    scope = http_scope(path)
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    began = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - began
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {set(statuses)}")
    return elapsed


if __name__ == "__main__":
    main()
