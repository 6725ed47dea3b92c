"""compose.yaml, the Dockerfile and .dockerignore, checked as far as a machine without Docker can."""

from __future__ import annotations

import re

from entrypoints.settings import env_names
from tests.deployment import ROOT, compose, dockerfile, exec_form, interpolate, service_environment

APP_SERVICES = ("migrate", "api")


def _readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- config-table:start -->")[1].split("<!-- config-table:end -->")[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def _instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def test_compose_has_postgres_with_a_volume_and_a_pg_isready_healthcheck() -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    volume, _, target = postgres["volumes"][0].partition(":")
    assert volume in compose()["volumes"], "a named volume, so data survives `docker compose down`"
    assert target == "/var/lib/postgresql"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_the_api_waits_for_a_healthy_database_and_finished_migrations() -> None:
    api = compose()["services"]["api"]
    assert api["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert compose()["services"]["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert api["ports"] == ["${API_PORTS:-8000}:8000"]
    assert interpolate(api["ports"][0], {}) == "8000:8000"


def test_migrations_run_once_in_a_one_shot_service_and_replicas_never_migrate() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["python", "-m", "entrypoints", "migrate", "up"]
    assert services["migrate"]["restart"] == "no"
    assert service_environment("api")["MIGRATE_ON_START"] == "false"


def test_the_api_command_is_the_image_command_and_both_services_use_the_image() -> None:
    services = compose()["services"]
    (cmd,) = _instructions("CMD")
    assert exec_form(cmd) == ["python", "-m", "entrypoints"]
    assert services["api"]["command"] == exec_form(cmd)
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["api"]["image"]


def test_healthchecks_probe_readiness() -> None:
    api_check = compose()["services"]["api"]["healthcheck"]["test"]
    (image_check,) = _instructions("HEALTHCHECK")
    assert api_check[0] == "CMD"
    assert api_check[1:] == exec_form(image_check)
    assert "/health/ready" in api_check[-1]


def test_every_variable_compose_sets_is_a_setting_and_documented() -> None:
    settings, documented = set(env_names()), _readme_variables()
    for name in APP_SERVICES:
        variables = set(service_environment(name))
        assert variables <= settings, f"{name} sets variables the service never reads: {variables - settings}"
        assert variables <= documented, f"{name} sets variables the README does not list: {variables - documented}"


def test_compose_defaults_point_the_api_at_the_postgres_service_and_listen_on_all_interfaces() -> None:
    env = service_environment("api")
    assert env["DATABASE_URL"] == "postgresql://mdp:mdp@postgres:5432/mdp"
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8000")
    overridden = service_environment("api", {"POSTGRES_PASSWORD": "s3cret", "INGESTION_INTERVAL_SECONDS": "0.5"})
    assert overridden["DATABASE_URL"] == "postgresql://mdp:s3cret@postgres:5432/mdp"
    assert overridden["INGESTION_INTERVAL_SECONDS"] == "0.5"
    assert service_environment("api", {"DATABASE_URL": "postgresql://db.example/x"})["DATABASE_URL"] == (
        "postgresql://db.example/x"
    )


def test_the_image_is_slim_non_root_and_installs_dependencies_before_the_code() -> None:
    steps = dockerfile()
    (base,) = _instructions("FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base)
    (user,) = _instructions("USER")
    assert user not in ("root", "0")
    copies = [arguments for instruction, arguments in steps if instruction == "COPY"]
    assert copies[0] == "pyproject.toml ./", "the dependency layer depends on pyproject.toml alone"
    first_install = next(i for i, (ins, arg) in enumerate(steps) if ins == "RUN" and "pip install" in arg)
    copy_src = next(i for i, (ins, arg) in enumerate(steps) if ins == "COPY" and arg.startswith("src"))
    assert first_install < copy_src
    assert any("HOST=0.0.0.0" in arguments for arguments in _instructions("ENV"))


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".data", "tests"} <= ignored
