"""Oversized request heads against the real service: all refused, and the server's memory stays flat.

Usage: .venv/bin/python bench/oversized_headers.py [--requests 100] [--clients 10]

The real `mdp api` on a migrated database of its own (DATABASE_URL's server when set, else a throw-away
embedded PostgreSQL). After a warm-up of normal requests it sends REQUESTS requests that each carry one
1 MiB header, then REQUESTS requests of 100,000 small headers each, then REQUESTS / 10 with one 64 MiB
header, CLIENTS at a time on raw sockets, and reads the server process's VmRSS (and its peak, VmHWM) from
/proc before and after each round.
Target: every one refused (431), RSS growth under 10 MB.
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from adapters.postgres.embedded import free_port
from harness import drop_database, own_database, postgres_server

_MDP = Path(sys.executable).with_name("mdp")
MDP = [str(_MDP)] if _MDP.exists() else [sys.executable, "-m", "entrypoints"]
HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
ROUNDS = {  # name: (request, share of REQUESTS)
    "one 1 MiB header": (HEAD + b"X-Big: " + b"v" * (1 << 20) + b"\r\n\r\n", 1.0),
    "100,000 small headers": (HEAD + b"X-Small: 1\r\n" * 100_000 + b"\r\n", 1.0),
    "one 64 MiB header (the issue's probe)": (HEAD + b"X-Huge: " + b"v" * (64 << 20) + b"\r\n\r\n", 0.1),
}


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


def send(port: int, raw: bytes) -> str:
    """The status line's code of the answer, or what went wrong instead."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(raw)
            received = bytearray()
            while chunk := conn.recv(65536):
                received += chunk
    except OSError as error:
        return type(error).__name__
    return received.split(b" ", 2)[1].decode() if received.startswith(b"HTTP/1.1 ") else "no answer"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    with postgres_server() as server_url:
        url = own_database(server_url)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "LOG_LEVEL": "WARNING"}
        service = subprocess.Popen([*MDP, "api"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            measure(service.pid, port, args.requests, args.clients)
        finally:
            service.terminate()
            service.wait(timeout=30)
            drop_database(server_url, url)


def measure(pid: int, port: int, requests: int, clients: int) -> None:
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    with httpx.Client(base_url=base) as client:  # warm-up: what a normal first minute allocates is not growth
        for _ in range(200):
            client.get("/symbols")
    start = memory_kib(pid)
    print(f"server pid {pid}: VmRSS {start['VmRSS'] / 1024:.1f} MiB after warm-up")
    print("| round | requests | answers | VmRSS before | VmRSS after | growth | VmHWM after |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, (raw, share) in ROUNDS.items():
        count = max(1, round(requests * share))
        before = memory_kib(pid)
        began = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            statuses = collections.Counter(pool.map(send, [port] * count, [raw] * count))
        took = time.monotonic() - began
        after = memory_kib(pid)
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        print(
            f"| {name} ({len(raw) / 1024:,.0f} KiB, {took:.1f} s) | {count} | {counts} "
            f"| {before['VmRSS'] / 1024:.1f} MiB | {after['VmRSS'] / 1024:.1f} MiB "
            f"| {(after['VmRSS'] - before['VmRSS']) / 1024:+.1f} MiB | {after['VmHWM'] / 1024:.1f} MiB |"
        )
    end = memory_kib(pid)
    healthy = httpx.get(f"{base}/health", timeout=5).status_code
    print(
        f"total growth {(end['VmRSS'] - start['VmRSS']) / 1024:+.1f} MiB (target < 10 MB); "
        f"peak {end['VmHWM'] / 1024:.1f} MiB; /health afterwards: {healthy}"
    )


if __name__ == "__main__":
    main()
