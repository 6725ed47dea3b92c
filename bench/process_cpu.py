"""CPU time of a process tree from /proc, the time of children that already exited included (Linux only)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from adapters.postgres.url import libpq_url


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and its descendants so far, those already exited and reaped included.

    A reaped child's time is added to its parent's cutime/cstime: PostgreSQL's postmaster collects the time of
    every connection closed meanwhile, uvicorn's supervisor that of its workers.
    """
    children, ticks = processes()
    return sum(ticks.get(pid, 0) for pid in tree(root, children)) / os.sysconf("SC_CLK_TCK")


def processes() -> tuple[dict[int, list[int]], dict[int, int]]:
    """Every process's children, and its CPU ticks (utime, stime, cutime, cstime)."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = sum(int(f) for f in fields[11:15])
    return children, ticks


def tree(root: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def postmaster(url: str) -> int | None:
    """The pid of the server's postmaster when it runs on this machine and its data directory is readable."""
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'").fetchone()
        return int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None
