"""`mdp migrate`: up, down to a revision, and current, against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.postgres import migrations
from entrypoints.cli import main


def _mdp(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out.strip()


def test_migrate_up_down_to_a_revision_and_current(
    fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database("mdp_migrate_cli"))
    head = migrations.head_revision()
    assert _mdp(capsys, "migrate", "current") == (0, f"database schema at base (empty); code expects {head}")
    assert _mdp(capsys, "migrate") == (0, f"database schema at {head}; code expects {head}")
    assert _mdp(capsys, "migrate", "down", "0001") == (0, f"database schema at 0001; code expects {head}")
    assert _mdp(capsys, "migrate", "up", "head") == (0, f"database schema at {head}; code expects {head}")
    assert _mdp(capsys, "migrate", "down", "base") == (0, f"database schema at base (empty); code expects {head}")
