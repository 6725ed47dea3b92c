"""Configuration: defaults are safe, bad values stop startup with one line naming the variable."""

from __future__ import annotations

import logging

import pytest

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import SettingsError, env_names, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.ingestion_interval_seconds == 1.0
    assert settings.stale_after_seconds == 3.0
    assert settings.port == 8000


def test_values_are_read_and_converted() -> None:
    settings = load_settings({"PORT": "9000", "INGESTION_ENABLED": "false", "INGESTION_INTERVAL_SECONDS": "0.25"})
    assert (settings.port, settings.ingestion_enabled, settings.ingestion_interval_seconds) == (9000, False, 0.25)


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("PORT", "eighty", "int"),
        ("PORT", "70000", "<= 65535"),
        ("INGESTION_INTERVAL_SECONDS", "0", "> 0"),
        ("INGESTION_ENABLED", "maybe", "bool"),
        ("LOG_LEVEL", "LOUD", "LOUD"),
        ("DASHBOARD_CACHE_SECONDS", "-1", ">= 0"),
        ("HTTP_MAX_HEADER_BYTES", "100", ">= 1024"),
        ("HTTP_MAX_HEADERS", "5", ">= 10"),
        ("HTTP_HEADER_TIMEOUT_SECONDS", "0", "> 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_is_allowed(variable: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}=")
    assert allowed in message
    assert "\n" not in message


def test_every_variable_is_documented_in_the_readme_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("<!-- config-table:start -->")[1].split("<!-- config-table:end -->")[0]
    missing = [name for name in env_names() if f"`{name}`" not in table]
    assert missing == []


@pytest.mark.parametrize(
    ("host", "token", "warned"), [("0.0.0.0", None, True), ("127.0.0.1", None, False), ("0.0.0.0", "t", False)]
)
def test_open_operator_routes_on_a_public_address_are_warned_about(
    caplog: pytest.LogCaptureFixture, host: str, token: str | None, warned: bool
) -> None:
    settings = load_settings({}, host=host, operator_token=token)
    with caplog.at_level(logging.WARNING, logger="mdp.app"):
        create_app(build_container(settings, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert any("OPERATOR_TOKEN is not set" in record.getMessage() for record in caplog.records) is warned


def test_tokens_are_hidden_in_the_settings_repr() -> None:
    settings = load_settings({"OPERATOR_TOKEN": "s3cret"})
    assert settings.dashboard_token == "s3cret"
    assert "s3cret" not in repr(settings)
