"""Configuration from environment variables, parsed and validated once at startup."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from domain.freshness import stale_threshold

Positive = Annotated[float, Meta(gt=0)]
Port = Annotated[int, Meta(ge=0, le=65535)]
Count = Annotated[int, Meta(ge=1)]
HeadBytes = Annotated[int, Meta(ge=1024, le=1_048_576)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every field is read from the upper-cased environment variable of the same name."""

    database_url: str | None = None
    data_dir: str = ".data"
    embedded_postgres_port: Port = 54329
    host: str = "127.0.0.1"
    port: Port = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    instance_id: str | None = None
    ingestion_enabled: bool = True
    ingestion_interval_seconds: Positive = 1.0
    ingestion_trades_per_tick: Count = 5
    ingestion_seed: int | None = None
    ingestion_max_backoff_seconds: Positive = 30.0
    db_pool_size: Count = 20
    db_max_overflow: Annotated[int, Meta(ge=0)] = 10
    db_read_pool_size: Count = 4
    db_pool_timeout_seconds: Positive = 5.0
    db_connect_timeout_seconds: Count = 3
    db_statement_timeout_ms: Count = 15_000
    db_startup_timeout_seconds: Positive = 30.0
    request_deadline_seconds: Annotated[float, Meta(gt=0, le=60)] = 2.0
    db_max_requests: Count = 64
    web_concurrency: Annotated[int, Meta(ge=1, le=64)] = 1
    migrate_on_start: bool = True
    shutdown_timeout_seconds: Positive = 10.0
    dashboard_api_base_url: str | None = None
    dashboard_refresh_seconds: Positive = 5.0
    dashboard_fetch_timeout_seconds: Positive = 2.0
    dashboard_cache_seconds: Annotated[float, Meta(ge=0)] = 1.0
    status_db_timeout_seconds: Annotated[float, Meta(gt=0, le=0.9)] = 0.5
    stream_max_clients: Count = 2000
    stream_queue_size: Count = 1000
    stream_keepalive_seconds: Annotated[float, Meta(gt=0, le=15)] = 15.0
    stream_retention_seconds: Annotated[int, Meta(ge=3600)] = 3600
    operator_token: str | None = None
    dashboard_api_token: str | None = None
    http_max_request_line_bytes: HeadBytes = 8192
    http_max_header_bytes: HeadBytes = 16_384
    http_max_headers_bytes: HeadBytes = 65_536
    http_max_headers: Annotated[int, Meta(ge=10, le=10_000)] = 100
    http_header_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 10.0

    def __repr__(self) -> str:  # tokens are secrets: never in a log line or a traceback
        hidden = {"operator_token", "dashboard_api_token"}
        fields = ", ".join(
            f"{name}={'***' if name in hidden and getattr(self, name) else repr(getattr(self, name))}"
            for name in self.__struct_fields__
        )
        return f"Settings({fields})"

    @property
    def embedded_data_dir(self) -> Path:
        return Path(self.data_dir) / "postgres"

    @property
    def stale_after_seconds(self) -> float:
        return stale_threshold(self.ingestion_interval_seconds)

    @property
    def resolved_instance_id(self) -> str:
        return self.instance_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def dashboard_base_url(self) -> str:
        return (self.dashboard_api_base_url or self.public_base_url).rstrip("/")

    @property
    def dashboard_token(self) -> str | None:
        """The bearer token the dashboard sends on its own API calls."""
        return self.dashboard_api_token or self.operator_token

    @property
    def public_base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


_BOOLEANS = ("ingestion_enabled", "migrate_on_start")


class SettingsError(ValueError):
    """A variable had a value the service cannot run with; the message names it."""


def env_names() -> list[str]:
    return [name.upper() for name in Settings.__struct_fields__]


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read the environment; raise SettingsError naming the variable and what is allowed."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in Settings.__struct_fields__:
        value = environ.get(field.upper())
        if value is not None and value.strip() != "":
            raw[field] = _coerce_bool(value.strip()) if field in _BOOLEANS else value.strip()
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(str(error), raw)) from None


def _coerce_bool(value: str) -> object:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    return value


def _explain(message: str, raw: Mapping[str, object]) -> str:
    # msgspec says "Expected `float` >= ..., got ... - at `$.field`"; name the variable instead.
    detail, _, where = message.partition(" - at `$.")
    field = where.rstrip("`")
    if field:
        return f"{field.upper()}={raw.get(field)!r} is invalid: {detail}"
    return f"invalid configuration: {message}"
