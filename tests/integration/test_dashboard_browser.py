"""The dashboard in a real headless Chromium: no console errors, alive while ingestion runs, dead after it stops."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright

from tests.integration.processes import ServiceProcess
from tests.integration.support import LiveServer, make_settings

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INTERVAL = 0.3  # stale after 0.9 s


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("no chromium on PATH: `make test` installs it as root (apt-get install chromium), or set CHROMIUM")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        problems.append(f"page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return problems


def test_dashboard_shows_alive_then_dead_without_console_errors(browser: Browser, clean_db: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    ingest_env = {"DATABASE_URL": clean_db, "INGESTION_INTERVAL_SECONDS": str(INTERVAL), "INSTANCE_ID": "ingest-1"}
    settings = make_settings(clean_db, dashboard_refresh_seconds=0.5, ingestion_interval_seconds=INTERVAL)
    with (
        LiveServer(settings, clean_db) as server,
        ServiceProcess(ingest_env, ("-m", "entrypoints", "ingest")) as ingest,
    ):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems = watch(page)
        page.goto(f"{server.base_url}/dashboard")
        page.evaluate("window.loadedOnce = true")  # gone if the page ever reloads instead of swapping
        badge = page.locator("#ingestion-badge")
        expect(badge).to_have_text("alive", timeout=30_000)
        expect(page.locator("#latency")).to_contain_text("GET /metrics")
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        ingest.signal(signal.SIGTERM)
        assert ingest.wait() == 0
        expect(badge).to_have_text("dead", timeout=15_000)
        assert page.evaluate("window.loadedOnce") is True
        page.screenshot(path=str(ARTIFACTS / "dashboard-dead.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
        page.close()
    assert problems == []
    assert overflow <= 0, "the page scrolls sideways at phone width"
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000


def test_the_charts_follow_the_stream_without_a_reload(browser: Browser, clean_db: str) -> None:
    # The periodic swap is ten minutes away: whatever changes on the page came from /candles/stream.
    settings = make_settings(
        clean_db, dashboard_refresh_seconds=600, ingestion_enabled=True, ingestion_interval_seconds=INTERVAL
    )
    with LiveServer(settings, clean_db) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems = watch(page)
        page.goto(f"{server.base_url}/dashboard")
        page.evaluate("window.loadedOnce = true")
        chart = page.locator('svg[data-symbol="AAPL"]')
        chart.wait_for(timeout=15_000)
        before = chart.inner_html()
        page.wait_for_function(
            "html => document.querySelector('svg[data-symbol=\"AAPL\"]').innerHTML !== html", arg=before, timeout=15_000
        )
        assert page.evaluate("window.loadedOnce") is True
        assert page.locator('svg[data-symbol="AAPL"] g[data-start]').count() >= 1
        page.screenshot(path=str(ARTIFACTS / "dashboard-live.png"), full_page=True)
        page.close()
    assert problems == []
