"""The ingestion heartbeat: what the last successful commit left behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """State written in the same transaction as each committed ingestion batch."""

    beat_at: datetime
    last_trade_at: datetime | None
    batches_committed: int
    trades_ingested: int
    last_batch_trades: int
    last_batch_duration_ms: float
    failed_attempts: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
