"""GraphiQL in a real headless Chromium, with no way off the machine: the page loads, runs the demo
query against the gateway (over the emulator), and shows the nested result."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from events_gateway.emulator import DEMO_API_KEY

from .conftest import GatewayFactory

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Bounds a wait so a broken page fails the test instead of hanging it; not a speed assertion.
PAGE_WAIT = 60

#: Reads the whole response editor (CodeMirror renders only the visible lines into the DOM).
READ_RESULT = """
const editor = document.querySelector('.result-window .CodeMirror');
if (editor && editor.CodeMirror) { return editor.CodeMirror.getValue(); }
const section = document.querySelector('.result-window');
return section ? section.innerText : '';
"""


def require_browser() -> None:
    """Skip without Chromium, except in CI, where a missing browser must fail the build."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def start_chromium(profile: Path) -> WebDriver:
    """A headless Chromium that can reach nothing but 127.0.0.1, logging requests and console; quit it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1400,1600",
        f"--user-data-dir={profile}",
        # Any name but the loopback address fails to resolve: nothing can leave the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def drive(url: str, profile: Path) -> tuple[str, str, list[str], list[dict[str, Any]]]:
    """Open GraphiQL, run its default query; return the result (whole, and as rendered), every URL
    requested and the console messages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = start_chromium(profile)
    try:
        driver.get(url)
        wait = WebDriverWait(driver, PAGE_WAIT)
        button = wait.until(
            expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))
        )
        wait.until(
            lambda d: (
                "eventCategories"
                in d.execute_script(
                    "const e = document.querySelector('.graphiql-query-editor .CodeMirror');"
                    "return e && e.CodeMirror ? e.CodeMirror.getValue() : '';"
                )
            )
        )
        button.click()
        wait.until(
            lambda d: '"data"' in d.execute_script(READ_RESULT) or '"errors"' in d.execute_script(READ_RESULT)
        )
        result = str(driver.execute_script(READ_RESULT))
        visible = driver.find_element(By.CSS_SELECTOR, ".result-window").text
        requested = [
            message["params"]["request"]["url"]
            for entry in driver.get_log("performance")
            if (message := json.loads(entry["message"])["message"])["method"] == "Network.requestWillBeSent"
        ]
        console = driver.get_log("browser")
        return result, visible, requested, console
    finally:
        driver.quit()


async def test_graphiql_runs_the_demo_query_offline(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    # Selenium blocks, so it runs in a thread while this loop serves the gateway and the emulator.
    result, visible, requested, console = await asyncio.to_thread(
        drive, f"{gateway}/graphql", tmp_path / "profile"
    )

    assert '"errors"' not in result, result
    data = json.loads(result)["data"]
    categories = {c["title"]: c for c in data["eventCategories"]["nodes"]}
    assert "Landing Page" in categories
    events = {e["title"]: e for e in categories["Landing Page"]["events"]["nodes"]}
    properties = {p["title"] for p in events["Landing Page Viewed"]["properties"]["nodes"]}
    assert "page_url" in properties
    assert '"title": "Landing Page"' in visible  # rendered on the page, not only fetched

    origin = urlsplit(gateway).netloc
    assert requested, "the performance log recorded no requests"
    # chrome:// and data: URLs are the browser's own pages and inline resources; only network schemes count.
    network = [url for url in requested if urlsplit(url).scheme in ("http", "https", "ws", "wss", "ftp")]
    leaving = [url for url in network if urlsplit(url).netloc != origin]
    assert leaving == []
    assert any(url.startswith(f"{gateway}/graphql/assets/graphiql.min.js") for url in network)
    assert any(url == f"{gateway}/graphql" for url in network)
    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    assert errors == []
