"""A real Prometheus scrapes a server that has OPERATOR_TOKEN, configured by deploy/prometheus.yml."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from adapters.postgres.embedded import free_port
from tests.deployment import prometheus_example, prometheus_tool
from tests.integration.support import LiveServer, make_settings, wait_for

TOKEN = "scrape-s3cret"


@pytest.fixture
def guarded(clean_db: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(clean_db, operator_token=TOKEN), clean_db) as server:
        yield server


class Prometheus:
    """`prometheus` on a loopback port with a configuration of the test's, its data in a temporary directory."""

    def __init__(self, config: dict[str, Any], directory: Path) -> None:
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = (directory / "prometheus.log").open("w")
        self._process = subprocess.Popen(
            [
                prometheus_tool("prometheus"),
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def targets(self) -> dict[str, dict[str, Any]]:
        """Active targets by job, once each has been scraped at least once."""
        try:
            answer = httpx.get(f"{self.url}/api/v1/targets", timeout=2).json()
        except httpx.HTTPError:
            return {}
        return {t["labels"]["job"]: t for t in answer["data"]["activeTargets"] if t["health"] != "unknown"}

    def query(self, expression: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}).json()[
            "data"
        ]["result"]
        return result

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
        self._log.close()


def test_prometheus_scrapes_with_the_token_file_and_is_refused_without_the_right_one(
    guarded: LiveServer, tmp_path: Path
) -> None:
    right, wrong = tmp_path / "mdp-token", tmp_path / "wrong-token"
    right.write_text(f"{TOKEN}\n")  # as `echo` writes it: Prometheus trims the newline
    wrong.write_text("not-the-token\n")
    target = guarded.base_url.removeprefix("http://")
    config = prometheus_example(credentials_file=str(right), target=target)
    config["global"]["scrape_interval"] = "1s"  # a first scrape soon, not within 15 s
    refused = copy.deepcopy(config["scrape_configs"][0])
    refused["job_name"] = "mdp-wrong-token"
    refused["authorization"]["credentials_file"] = str(wrong)
    config["scrape_configs"].append(refused)

    prometheus = Prometheus(config, tmp_path)
    try:
        wait_for(lambda: len(prometheus.targets()) == 2, timeout=60)
        targets = prometheus.targets()
        wait_for(lambda: prometheus.query('mdp_db_healthy{job="mdp"}'), timeout=60)
        (healthy,) = prometheus.query('mdp_db_healthy{job="mdp"}')
    finally:
        prometheus.stop()
    assert targets["mdp"]["health"] == "up" and targets["mdp"]["lastError"] == ""
    assert targets["mdp-wrong-token"]["health"] == "down"
    assert "401" in targets["mdp-wrong-token"]["lastError"]
    assert healthy["value"][1] == "1"
