"""Reads compose.yaml, the Dockerfile and deploy/prometheus.yml the way Docker and Prometheus would."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_EXAMPLE = ROOT / "deploy" / "prometheus.yml"
TOKEN_FILE = "/etc/prometheus/mdp-token"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` (nested) and `$$`; nothing else is used in our file."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            out.append(_expand(text[i + 2 : end], environ))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced braces in {text!r}")


def _expand(expression: str, environ: Mapping[str, str]) -> str:
    name, _, default = expression.partition(":-")
    assert _NAME.fullmatch(name), f"unsupported interpolation ${{{expression}}}"
    value = environ.get(name, "")
    return value if value else interpolate(default, environ)


def service_environment(service: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a compose service's container gets, with the shell's variables as given."""
    raw = compose()["services"][service].get("environment", {})
    return {key: interpolate(str(value), environ or {}) for key, value in raw.items()}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD (after any HEALTHCHECK options)."""
    start = arguments.index("[")
    command = json.loads(arguments[start:])
    assert isinstance(command, list)
    return [str(part) for part in command]


def prometheus_example(credentials_file: str | None = None, target: str | None = None) -> dict[str, Any]:
    """deploy/prometheus.yml; a test may point it at its own token file and server."""
    loaded = yaml.safe_load(PROMETHEUS_EXAMPLE.read_text())
    assert isinstance(loaded, dict)
    for job in loaded["scrape_configs"]:
        if credentials_file is not None:
            job["authorization"]["credentials_file"] = credentials_file
        if target is not None:
            job["static_configs"] = [{"targets": [target]}]
    return loaded


def prometheus_tool(name: str) -> str:
    """`promtool` or `prometheus` (Debian's prometheus package), or the path in PROMTOOL/PROMETHEUS."""
    path = os.environ.get(name.upper()) or shutil.which(name)
    if not path:
        pytest.fail(
            f"no {name} on PATH: `make test` installs it as root (apt-get install prometheus), or set {name.upper()}"
        )
    return path
