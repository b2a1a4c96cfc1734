"""The status page in a real headless Chromium: the builds of a small real history are listed, and one
build's page shows its log and its upgrade graph (drawn on the server). Screenshots are kept under
.build/test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.status_api.server import running_api
from tests.status_api.ui.browser import chromium
from tests.status_api.ui.demo import Demo, api_env

ARTIFACTS = Path(__file__).resolve().parents[3] / ".build" / "test-artifacts"
pytestmark = pytest.mark.slow


def test_status_page_lists_builds_and_shows_log_and_graph(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_api(api_env(tmp_path)) as base, chromium() as browser:
        ids = Demo(base, tmp_path / "images").run()

        browser.get(f"{base}/")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.builds tbody tr")
        listed = [int(row.get_attribute("data-build-id")) for row in rows]
        assert listed == sorted(ids.values(), reverse=True)  # newest first
        states = {
            int(r.get_attribute("data-build-id")): r.find_element(By.CSS_SELECTOR, ".state").text
            for r in rows
        }
        assert states[ids["add"]] == "complete" and states[ids["waiting"]] == "in progress"
        assert browser.find_element(By.ID, "refreshing").is_displayed()  # reloads while one is in progress
        browser.save_screenshot(str(ARTIFACTS / "status-page.png"))

        browser.get(f"{base}/?state=complete&request_type=rm")
        filtered = browser.find_elements(By.CSS_SELECTOR, "table.builds tbody tr")
        assert [int(r.get_attribute("data-build-id")) for r in filtered] == [ids["rm"]]

        browser.find_element(By.CSS_SELECTOR, f'a[href="/builds/{ids["rm"]}"]').click()
        assert "removed" in browser.find_element(By.ID, "log").text

        browser.get(f"{base}/builds/{ids['add2']}")
        log = browser.find_element(By.ID, "log").text
        assert "The operator bundle(s) were successfully added to the index image" in log
        image = browser.find_element(By.CSS_SELECTOR, 'figure.graph[data-package="hello-operator"] img')
        WebDriverWait(browser, 60).until(
            lambda _: browser.execute_script("return arguments[0].complete", image)
        )
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
        browser.save_screenshot(str(ARTIFACTS / "status-build.png"))

        browser.get(f"{base}/builds/{ids['add2']}/graph/hello-operator.svg")
        nodes = browser.find_elements(By.CSS_SELECTOR, "g.bundle")
        assert [n.get_attribute("data-bundle") for n in nodes] == [
            f"hello-operator.v{v}" for v in ("0.1.0", "0.2.0", "0.3.0")
        ]
        assert browser.find_elements(By.CSS_SELECTOR, "path.edge.skipRange")


def test_docs_page_loads_every_asset_from_the_api(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with running_api(api_env(tmp_path)) as base, chromium() as browser:
        browser.get(f"{base}/schema/swagger")
        WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"))
        sources = browser.execute_script(
            "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
        )
        assert sources and all(s.startswith(base) for s in sources)
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(url.startswith(base) for url in loaded)
