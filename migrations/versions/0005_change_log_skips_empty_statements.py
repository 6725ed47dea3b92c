"""The change log's statement triggers return at once when the statement changed no candle.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

A statement trigger fires for a statement that touched no row, and the change
log's took its ordering lock (held to the commit) before looking. So a /candles
read whose repair probe found nothing to store waited for every candle writer in
flight: behind a backfill's COPY, for the whole load, and now past the request
deadline. A statement that changed nothing has no place in the order to take.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"


def _change_log_migration() -> ModuleType:
    """Migration 0004, whose function text this one reuses (migrations are files, not a package)."""
    path = Path(__file__).with_name("0004_candle_change_log.py")
    spec = importlib.util.spec_from_file_location("mdp_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _functions(skip_empty: bool) -> str:
    previous = _change_log_migration()
    text = ""
    for name, rows, table in (
        ("log_written_candles", previous._WRITTEN, "new_rows"),
        ("log_removed_candles", previous._REMOVED, "old_rows"),
    ):
        function = previous._function(name, rows).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        if skip_empty:
            early_exit = f"BEGIN\n    IF NOT EXISTS (SELECT 1 FROM {table}) THEN\n        RETURN NULL;\n    END IF;\n"
            function = function.replace("BEGIN\n", early_exit, 1)
        text += function
    return text


def upgrade() -> None:
    op.execute(_functions(skip_empty=True))


def downgrade() -> None:
    op.execute(_functions(skip_empty=False))
