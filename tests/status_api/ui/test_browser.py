"""The status page in a real headless Chromium: make run's builds are listed, and one build's page
shows its log and its upgrade graphs (drawn on the server). Screenshots are kept under
.build/test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from iib_steps.demo.flow import Client, build_bundles, submit_flow
from iib_steps.demo.server import background_api, free_port
from tests.status_api.ui.browser import chromium

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / ".build" / "test-artifacts"
pytestmark = pytest.mark.slow


def test_status_page_shows_the_demo_builds_with_log_and_graph(tmp_path: Path) -> None:
    """make run's flow (the API with the local executor running our Pipelines), then the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    said: list[str] = []
    refs = build_bundles(ROOT / "examples", tmp_path / "images", said.append)
    with background_api(tmp_path, free_port(), said.append) as base, chromium() as browser:
        builds = submit_flow(Client(base), refs, tmp_path, said.append)
        assert [b["state"] for b in builds] == ["complete"] * 3, "\n".join(said)
        add, add2, rm = (int(b["id"]) for b in builds)

        browser.get(f"{base}/")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.builds tbody tr")
        assert [int(row.get_attribute("data-build-id")) for row in rows] == [rm, add2, add]  # newest first
        assert [row.find_element(By.CSS_SELECTOR, ".state").text for row in rows] == ["complete"] * 3
        assert not browser.find_elements(By.ID, "refreshing")  # nothing in progress: no reloading
        browser.save_screenshot(str(ARTIFACTS / "status-page.png"))

        browser.get(f"{base}/?state=complete&request_type=rm")
        filtered = browser.find_elements(By.CSS_SELECTOR, "table.builds tbody tr")
        assert [int(r.get_attribute("data-build-id")) for r in filtered] == [rm]
        browser.find_element(By.CSS_SELECTOR, f'a[href="/builds/{rm}"]').click()
        assert "successfully removed" in browser.find_element(By.ID, "log").text

        browser.get(f"{base}/builds/{add2}")
        assert "successfully added to the index image" in browser.find_element(By.ID, "log").text
        history = browser.find_elements(By.CSS_SELECTOR, "table.history tbody tr")
        assert len(history) >= 2
        for package in ("hello-operator", "tea-operator"):
            image = browser.find_element(By.CSS_SELECTOR, f'figure.graph[data-package="{package}"] img')
            WebDriverWait(browser, 120).until(
                lambda _, i=image: browser.execute_script("return arguments[0].complete", i)
            )
            assert browser.execute_script("return arguments[0].naturalWidth", image) > 0, package
        browser.save_screenshot(str(ARTIFACTS / "status-build.png"))

        browser.get(f"{base}/builds/{add2}/graph/hello-operator.svg")
        nodes = browser.find_elements(By.CSS_SELECTOR, "g.bundle")
        assert [n.get_attribute("data-bundle") for n in nodes] == [
            f"hello-operator.v{v}" for v in ("0.1.0", "0.2.0", "0.3.0")
        ]
        assert browser.find_elements(By.CSS_SELECTOR, "path.edge.skipRange")


def test_docs_page_loads_every_asset_from_the_api(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with background_api(tmp_path, free_port(), lambda _: None) as base, chromium() as browser:
        browser.get(f"{base}/schema/swagger")
        WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"))
        sources = browser.execute_script(
            "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
        )
        assert sources and all(s.startswith(base) for s in sources)
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(url.startswith(base) for url in loaded)
