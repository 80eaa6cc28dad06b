"""A headless Chromium that cannot leave the machine, and what the GraphiQL tests do with it.

Selenium blocks, so tests call these helpers through ``asyncio.to_thread`` while their own event loop
serves the gateway and the emulator.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

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
#: The query editor's whole text.
READ_QUERY = """
const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : null;
"""
#: Replaces the query editor's text as typing would (CodeMirror's change event fires, so GraphiQL sees it).
WRITE_QUERY = """
document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);
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


def start_chromium(profile: Path, *, width: int = 1400, height: int = 1600) -> WebDriver:
    """A headless Chromium with its own profile, logging every request and console message; the caller
    quits it."""
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
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
        # Any name but the loopback address fails to resolve: nothing can leave the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@contextlib.contextmanager
def chromium(profile: Path, *, width: int = 1400, height: int = 1600) -> Iterator[WebDriver]:
    """``start_chromium`` for the length of a ``with`` block."""
    driver = start_chromium(profile, width=width, height=height)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, PAGE_WAIT)


def open_graphiql(driver: WebDriver, url: str, *, expect: str = "eventCategories") -> None:
    """Load the page and wait until the query editor holds ``expect`` and can run."""
    driver.get(url)
    wait(driver).until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))
    )
    wait(driver).until(lambda d: expect in (d.execute_script(READ_QUERY) or ""))


def run_query(driver: WebDriver) -> str:
    """Press ▶ and return the response editor's text once a response is in."""
    driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    wait(driver).until(
        lambda d: '"data"' in d.execute_script(READ_RESULT) or '"errors"' in d.execute_script(READ_RESULT)
    )
    return str(driver.execute_script(READ_RESULT))


def open_plugin(driver: WebDriver, title: str) -> None:
    """Click the sidebar button of the GraphiQL plugin called ``title``."""
    wait(driver).until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, f'[aria-label="Show {title}"]'))
    ).click()


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL the browser asked for since the last call (the performance log drains as it is read)."""
    return [
        message["params"]["request"]["url"]
        for entry in driver.get_log("performance")
        if (message := json.loads(entry["message"])["message"])["method"] == "Network.requestWillBeSent"
    ]


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
