"""wrk with bench/load.lua: the mixed endpoints at N connections for S seconds, and what came back."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import msgspec

LUA = Path(__file__).with_name("load.lua")


class WrkErrors(msgspec.Struct):
    connect: int
    read: int
    write: int
    timeout: int


class WrkResult(msgspec.Struct):
    """What load.lua's done() prints after MDP-WRK."""

    requests: int
    duration_us: int
    errors: WrkErrors
    p50_us: int
    p99_us: int
    max_us: int
    over_deadline: int
    statuses: dict[str, int]
    details: dict[str, int]

    @property
    def socket_errors(self) -> int:
        return self.errors.connect + self.errors.read + self.errors.write + self.errors.timeout

    def count(self, *, where: Callable[[int], bool]) -> int:
        return sum(n for status, n in self.statuses.items() if where(int(status)))


def wrk_binary() -> str:
    path = os.environ.get("WRK") or shutil.which("wrk")
    if not path:
        raise SystemExit("wrk not found: install it (Debian: apt-get install wrk) or set WRK=/path/to/wrk")
    return path


def run_wrk(base_url: str, connections: int, seconds: float, threads: int, deadline: float) -> WrkResult:
    command = [wrk_binary(), "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--timeout", "10s", "-s", str(LUA), base_url]
    env = {**os.environ, "MDP_DEADLINE_US": str(int(deadline * 1_000_000))}
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, env=env, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("MDP-WRK "):
            return msgspec.json.decode(line.removeprefix("MDP-WRK "), type=WrkResult)
    raise RuntimeError(f"wrk exited with {done.returncode} and no summary:\n{done.stdout}\n{done.stderr}")
