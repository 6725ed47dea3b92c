"""compose.yaml, the Dockerfile, .dockerignore and the Prometheus example, checked as far as can be without Docker."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from entrypoints.settings import env_names, load_settings
from tests.deployment import (
    PROMETHEUS_EXAMPLE,
    ROOT,
    TOKEN_FILE,
    compose,
    dockerfile,
    exec_form,
    interpolate,
    prometheus_example,
    prometheus_tool,
    service_environment,
)

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


def test_compose_takes_the_operator_token_from_the_shell_or_env_file_never_from_itself() -> None:
    raw = compose()["services"]["api"]["environment"]["OPERATOR_TOKEN"]
    assert raw == "${OPERATOR_TOKEN:-}", "no token, and no default token, is written in compose.yaml"
    given = load_settings(service_environment("api", {"OPERATOR_TOKEN": "from-the-env-file"}))
    assert (given.operator_token, given.dashboard_token) == ("from-the-env-file", "from-the-env-file")
    # Not given: empty, which the service reads as unset (open, with a warning on a public HOST).
    assert load_settings(service_environment("api")).operator_token is None


def test_no_compose_service_writes_a_secret_into_the_file() -> None:
    for name, service in compose()["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"TOKEN|SECRET", variable):
                assert re.fullmatch(rf"\$\{{{variable}(:-)?\}}", str(value)), f"{name} hard-codes {variable}"


def test_the_env_file_and_the_token_file_stay_out_of_git_and_the_build_context() -> None:
    for ignore_file in (".gitignore", ".dockerignore"):
        assert {".env", "mdp-token"} <= set((ROOT / ignore_file).read_text().split()), ignore_file


def _scrape_examples_in_docs() -> list[list[dict[str, Any]]]:
    """The `scrape_configs` of every YAML example in README.md and docs/*.md."""
    examples = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```ya?ml\n(.*?)```", page.read_text(), flags=re.DOTALL):
            loaded = yaml.safe_load(block)
            if isinstance(loaded, dict) and "scrape_configs" in loaded:
                examples.append(loaded["scrape_configs"])
    return examples


def test_the_prometheus_examples_send_the_token_from_a_file() -> None:
    shipped = prometheus_example()["scrape_configs"]
    for job in shipped:
        assert job["metrics_path"] == "/metrics"
        assert job["authorization"] == {"type": "Bearer", "credentials_file": TOKEN_FILE}
        assert not {"bearer_token", "bearer_token_file", "basic_auth"} & set(job), "only `authorization`"
    documented = _scrape_examples_in_docs()
    assert len(documented) >= 2, "README.md and docs/security.md show the scrape example"
    assert all(example == shipped for example in documented), "the docs show deploy/prometheus.yml's job"


def test_promtool_accepts_the_prometheus_example(tmp_path: Path) -> None:
    promtool = prometheus_tool("promtool")
    syntax = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(PROMETHEUS_EXAMPLE)], capture_output=True, text=True
    )
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    # In full, promtool also opens the credentials file: give it one where the example's would be.
    token = tmp_path / "mdp-token"
    token.write_text("s3cret\n")
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_example(credentials_file=str(token))))
    full = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert full.returncode == 0, full.stdout + full.stderr
    token.unlink()
    missing = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert missing.returncode != 0 and "mdp-token" in missing.stdout + missing.stderr
