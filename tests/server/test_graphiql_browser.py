"""GraphiQL in a real headless Chromium, with no way off the machine: the page loads, runs the demo
query against the gateway (over the emulator) and shows the nested result; the call-plan panel draws
the response's upstream calls; a link fills the editors in and follows them; the explorer builds a
query by clicking."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from selenium.webdriver.common.by import By

from events_gateway.emulator import DEMO_API_KEY

from .browser import (
    READ_QUERY,
    WRITE_QUERY,
    chromium,
    console_errors,
    open_graphiql,
    open_plugin,
    requested_urls,
    require_browser,
    run_query,
    wait,
)
from .conftest import GatewayFactory

pytestmark = pytest.mark.browser

#: ``make screenshot`` sets this to the README's picture of the call-plan panel.
SCREENSHOT = os.environ.get("CALL_PLAN_SCREENSHOT")


def run_demo(url: str, profile: Path) -> tuple[str, str, list[str], list[dict[str, Any]]]:
    """Open GraphiQL, run its default query; return the result (whole, and as rendered), every URL
    requested and the console errors."""
    with chromium(profile) as driver:
        open_graphiql(driver, url)
        result = run_query(driver)
        visible = driver.find_element(By.CSS_SELECTOR, ".result-window").text
        return result, visible, requested_urls(driver), console_errors(driver)


async def test_graphiql_runs_the_demo_query_offline(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    result, visible, requested, errors = await asyncio.to_thread(
        run_demo, f"{gateway}/graphql", tmp_path / "profile"
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
    for asset in ("graphiql.min.js", "plugin-explorer.umd.js", "call-plan.js", "shareable-url.js"):
        assert any(url.startswith(f"{gateway}/graphql/assets/{asset}") for url in network), asset
    assert any(url == f"{gateway}/graphql" for url in network)
    assert errors == []


# --- the call-plan panel --------------------------------------------------------------------------

#: The panel's bars and round sections, as the page draws them.
READ_PANEL = """
const panel = document.querySelector('.eg-plan');
return {
  state: panel.dataset.planState,
  bars: panel.querySelectorAll('.eg-plan-bar').length,
  calls: Array.from(panel.querySelectorAll('.eg-plan-route')).map(route => route.innerText),
  rounds: Array.from(panel.querySelectorAll('.eg-plan-round')).map(r => Number(r.dataset.round)),
  totals: Object.fromEntries(Array.from(panel.querySelectorAll('[data-total]'))
    .map(t => [t.dataset.total, t.querySelector('dd').innerText])),
  text: panel.innerText,
};
"""


def run_with_panel(url: str, profile: Path, screenshot: Path | None) -> tuple[str, dict[str, Any]]:
    """Run the demo query, open the call-plan panel; the response and what the panel shows."""
    with chromium(profile, width=1400, height=860) as driver:
        open_graphiql(driver, url)
        result = run_query(driver)
        open_plugin(driver, "Upstream calls")
        wait(driver).until(
            lambda d: (
                d.execute_script("return document.querySelector('.eg-plan')?.dataset.planState") == "done"
            )
        )
        panel: dict[str, Any] = driver.execute_script(READ_PANEL)
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        return result, panel


async def test_the_panel_draws_one_bar_per_upstream_call_of_the_response(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY, upstream_plan="on")
    picture = tmp_path / "call-plan.png" if SCREENSHOT else None
    result, panel = await asyncio.to_thread(
        run_with_panel, f"{gateway}/graphql", tmp_path / "profile", picture
    )

    plan = json.loads(result)["extensions"]["upstream"]  # the same response GraphiQL shows
    assert plan["totalCalls"] > 1
    assert panel["bars"] == len(plan["calls"]) == plan["totalCalls"]
    assert sorted(panel["calls"]) == sorted(call["route"] for call in plan["calls"])
    assert panel["rounds"] == sorted({call["round"] for call in plan["calls"]})
    assert len(panel["rounds"]) == plan["rounds"]
    assert panel["totals"]["calls"] == str(plan["totalCalls"])
    assert panel["totals"]["rounds"] == str(plan["rounds"])
    assert panel["totals"]["cache hits"] == str(plan["cacheHits"]) == "0"  # a fresh gateway: all cold
    if picture is not None and SCREENSHOT is not None:  # drawn right, so it may replace the README's
        shutil.copyfile(picture, SCREENSHOT)


def run_twice_with_panel(url: str, profile: Path) -> dict[str, Any]:
    """Run the demo query, then again: what the panel shows of the second response."""
    with chromium(profile) as driver:
        open_graphiql(driver, url)
        run_query(driver)
        open_plugin(driver, "Upstream calls")
        wait(driver).until(
            lambda d: (
                d.execute_script("return document.querySelector('.eg-plan')?.dataset.planState") == "done"
            )
        )
        driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
        wait(driver).until(lambda d: "from the gateway's cache" in d.execute_script(READ_PANEL)["text"])
        panel: dict[str, Any] = driver.execute_script(READ_PANEL)
        return panel


async def test_the_panel_says_when_the_whole_answer_came_from_the_cache(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY, upstream_plan="on")
    panel = await asyncio.to_thread(run_twice_with_panel, f"{gateway}/graphql", tmp_path / "profile")

    assert panel["bars"] == 0
    assert panel["totals"]["calls"] == "0"
    assert "nothing was executed and no call was made" in panel["text"]


def panel_when_off(url: str, profile: Path) -> tuple[str, dict[str, Any], list[str]]:
    with chromium(profile) as driver:
        open_graphiql(driver, url)
        open_plugin(driver, "Upstream calls")
        result = run_query(driver)
        return result, driver.execute_script(READ_PANEL), requested_urls(driver)


async def test_without_the_plan_the_panel_says_how_to_turn_it_on(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY)  # upstream_plan "auto": off outside `serve`
    result, panel, _ = await asyncio.to_thread(panel_when_off, f"{gateway}/graphql", tmp_path / "profile")

    assert "errors" not in json.loads(result)
    assert "extensions" not in json.loads(result)
    assert panel["state"] == "off"
    assert panel["bars"] == 0
    assert "EVENTS_GATEWAY_UPSTREAM_PLAN=on" in panel["text"]


# --- links and the explorer -----------------------------------------------------------------------

LINKED_QUERY = "query OneCategory($first: Int) {\n  eventCategories(first: $first) {\n    totalCount\n  }\n}"
LINKED_VARIABLES = '{"first": 1}'


def follow_link(url: str, profile: Path) -> dict[str, Any]:
    """Open a link with a query, run it, edit the query, then build one with the explorer."""
    seen: dict[str, Any] = {}
    with chromium(profile) as driver:
        open_graphiql(driver, url, expect="OneCategory")
        seen["query"] = driver.execute_script(READ_QUERY)
        seen["variables"] = driver.execute_script(
            "return document.querySelector('.graphiql-editor-tool .CodeMirror').CodeMirror.getValue();"
        )
        seen["result"] = run_query(driver)

        edited = LINKED_QUERY.replace("totalCount", "totalCount\n    nodes { title }")
        driver.execute_script(WRITE_QUERY, edited)
        wait(driver).until(lambda d: "title" in parse_qs(urlsplit(d.current_url).query).get("query", [""])[0])
        seen["edited_url"] = driver.current_url

        driver.execute_script(WRITE_QUERY, "")
        open_plugin(driver, "GraphiQL Explorer")
        field = wait(driver).until(
            lambda d: d.find_element(
                By.CSS_SELECTOR, '.graphiql-explorer-root [data-field-name="eventProperties"]'
            )
        )
        field.click()
        wait(driver).until(lambda d: "eventProperties" in (d.execute_script(READ_QUERY) or ""))
        seen["explored"] = driver.execute_script(READ_QUERY)
        wait(driver).until(
            lambda d: "eventProperties" in parse_qs(urlsplit(d.current_url).query).get("query", [""])[0]
        )
        seen["explored_url"] = driver.current_url
        seen["errors"] = console_errors(driver)
    return seen


async def test_a_link_fills_graphiql_in_and_the_address_follows_the_editors(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    require_browser()
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    link = f"{gateway}/graphql?" + urlencode(
        {"query": LINKED_QUERY, "variables": LINKED_VARIABLES, "operationName": "OneCategory"}
    )
    seen = await asyncio.to_thread(follow_link, link, tmp_path / "profile")

    assert seen["query"] == LINKED_QUERY
    assert seen["variables"] == LINKED_VARIABLES
    assert json.loads(seen["result"])["data"]["eventCategories"]["totalCount"] > 0
    edited = parse_qs(urlsplit(seen["edited_url"]).query)
    assert edited["query"] == [LINKED_QUERY.replace("totalCount", "totalCount\n    nodes { title }")]
    assert edited["variables"] == [LINKED_VARIABLES]
    assert "eventProperties" in seen["explored"]  # one click in the explorer wrote the field into the editor
    assert parse_qs(urlsplit(seen["explored_url"]).query)["query"] == [seen["explored"]]
    assert seen["errors"] == []
