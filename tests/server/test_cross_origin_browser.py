"""Another website against a gateway with a fallback key, in a real headless Chromium.

A page on a second loopback origin (its own port) tries, without a key, everything a hostile page can: a
POST query, a GET query, a POST mutation (fetch), form posts (text/plain and urlencoded, into a frame) and a
``<script src=…/graphql?query=…>``. Each is refused, and the emulator's counters show no call at all. With
its own key, and its origin allowed by CORS, the same page reads the demo tree; on a gateway whose CORS
allows no origin (the default) it reads nothing, key or not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiohttp import web

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

from .browser import PAGE_WAIT, require_browser, start_chromium

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

StartApp = Callable[[web.Application], Awaitable[str]]

#: The hostile page: each function tries one way in and reports what it could observe.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>another site</title></head><body>
<script>
const TREE = "{ eventCategories { nodes { title events { nodes { title "
  + "properties { nodes { title } } } } } } }";
const MUTATION = 'mutation($i: ID!) { createEventCategory(input: {title: "From another site", '
  + 'integrationId: $i}) { id } }';
const inlineMutation = (integration) =>
  MUTATION.replace("($i: ID!)", "").replace("$i", JSON.stringify(integration));
const JSON_BODY = {"Content-Type": "application/json"};

async function attempt(request) {
  try {
    const response = await request;
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return {status: response.status, body: body, requestId: response.headers.get("X-Request-Id")};
  } catch (error) {
    return {failed: String(error)};
  }
}

function submitForm(gateway, enctype, name, value) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = "sink-" + Math.random().toString(36).slice(2);
    // The empty frame may fire a load of its own (about:blank) first; the gateway's answer is the load
    // whose document this page, on another origin, cannot read.
    frame.onload = () => {
      let blank = false;
      try { blank = frame.contentWindow.location.href === "about:blank"; } catch (e) { blank = false; }
      if (!blank) resolve("loaded");
    };
    document.body.append(frame);
    const form = document.createElement("form");
    form.method = "POST";
    form.action = gateway + "/graphql";
    form.enctype = enctype;
    form.target = frame.name;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
    document.body.append(form);
    form.submit();
  });
}

function loadScript(gateway) {
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.onload = () => resolve("loaded");
    script.onerror = () => resolve("error");
    script.src = gateway + "/graphql?query=" + encodeURIComponent(TREE);
    document.head.append(script);
  });
}

window.keyless = async function (gateway, integration) {
  const mutation = JSON.stringify({query: MUTATION, variables: {i: integration}});
  // text/plain sends "name=value": this name and value make the body a JSON document.
  const plainName = '{"query": ' + JSON.stringify(inlineMutation(integration)) + ', "pad": "';
  return {
    postQuery: await attempt(fetch(gateway + "/graphql",
      {method: "POST", headers: JSON_BODY, body: JSON.stringify({query: TREE})})),
    getQuery: await attempt(fetch(gateway + "/graphql?query=" + encodeURIComponent(TREE))),
    postMutation: await attempt(fetch(gateway + "/graphql",
      {method: "POST", headers: JSON_BODY, body: mutation})),
    formPlain: await submitForm(gateway, "text/plain", plainName, '"}'),
    formUrlencoded: await submitForm(
      gateway, "application/x-www-form-urlencoded", "query", inlineMutation(integration)),
    script: await loadScript(gateway),
  };
};

window.keyed = function (gateway, key, credentials) {
  return attempt(fetch(gateway + "/graphql", {
    method: "POST",
    headers: {...JSON_BODY, "Authorization": "Bearer " + key},
    body: JSON.stringify({query: TREE}),
    credentials: credentials,
  }));
};
</script>
</body></html>
"""


async def serve_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


def call(driver: WebDriver, function: str, *args: Any) -> Any:
    """Await ``window[function](...args)`` in the page and return what it resolves to."""
    script = (
        "const done = arguments[arguments.length - 1];"
        f"window[{json.dumps(function)}](...Array.from(arguments).slice(0, -1))"
        ".then(done, (error) => done({failed: String(error)}));"
    )
    return driver.execute_async_script(script, *args)


def open_page(profile: Path, url: str) -> WebDriver:
    driver = start_chromium(profile)
    driver.set_script_timeout(PAGE_WAIT)
    driver.get(url)
    return driver


def tree_titles(body: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    categories = body["data"]["eventCategories"]["nodes"]
    events = [event for category in categories for event in category["events"]["nodes"]]
    properties = [prop for event in events for prop in event["properties"]["nodes"]]
    return (
        {category["title"] for category in categories},
        {event["title"] for event in events},
        {prop["title"] for prop in properties},
    )


async def test_another_origin_cannot_use_the_fallback_key_but_can_use_its_own(
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    start_app: StartApp,
    api_headers: dict[str, str],
    tmp_path: Path,
) -> None:
    require_browser()
    page_app = web.Application()
    page_app.router.add_get("/", serve_page)
    page = await start_app(page_app)  # a second loopback origin: same address, its own port

    answered: list[tuple[str, int, str | None]] = []

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        answered.append((request.method, response.status, request.headers.get("Sec-Fetch-Dest")))

    # The page's origin is allowed by CORS, so the page can even read why it was refused.
    settings = Settings(upstream_url=emulator.api_url, api_key=DEMO_API_KEY, cors_origins=(page,))
    app = create_app(settings)
    app.on_response_prepare.append(record)
    gateway = await start_app(app)
    closed = await start_app(create_app(settings.with_(cors_origins=Settings().cors_origins)))

    async with httpx.AsyncClient(headers=api_headers) as http:
        integrations = await http.get(f"{emulator.api_url}/integration/integrations/")
    integration = integrations.json()["results"][0]["id"]
    await emulator_admin.reset()

    driver = await asyncio.to_thread(open_page, tmp_path / "profile", f"{page}/")
    try:
        keyless = await asyncio.to_thread(call, driver, "keyless", gateway, integration)
        upstream = await emulator_admin.stats()
        refusals = [(status, dest) for method, status, dest in answered if method != "OPTIONS"]
        keyed = await asyncio.to_thread(call, driver, "keyed", gateway, DEMO_API_KEY, "same-origin")
        with_cookies = await asyncio.to_thread(call, driver, "keyed", gateway, DEMO_API_KEY, "include")
        not_allowed = await asyncio.to_thread(call, driver, "keyed", closed, DEMO_API_KEY, "same-origin")
        console = [entry["message"] for entry in await asyncio.to_thread(driver.get_log, "browser")]
    finally:
        await asyncio.to_thread(driver.quit)

    # Every keyless attempt was refused, readably where CORS lets the page read at all.
    for name in ("postQuery", "getQuery", "postMutation"):
        assert keyless[name]["status"] == 401, (name, keyless[name])
        assert keyless[name]["body"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in keyless[name]["body"]
    assert keyless["formPlain"] == keyless["formUrlencoded"] == "loaded"  # into a frame it cannot read
    assert keyless["script"] == "error"
    # The gateway saw each one (the browser did send them) and answered each with 401.
    assert sorted(dest or "" for _, dest in refusals) == [
        "empty",
        "empty",
        "empty",
        "iframe",
        "iframe",
        "script",
    ]
    assert {status for status, _ in refusals} == {401}
    # ... and nothing reached the upstream: no read, no write.
    assert upstream["total"] == 0, upstream["by_route"]

    # With its own key, the allowed page reads the whole demo tree and the request id.
    assert keyed["status"] == 200, keyed
    categories, events, properties = tree_titles(keyed["body"])
    assert "Landing Page" in categories
    assert "Landing Page Viewed" in events
    assert "page_url" in properties
    assert keyed["requestId"]
    # Cookies never authenticate, so the gateway never allows credentials: the browser refuses the answer
    # with what docs/http.md tells a frontend to expect.
    assert with_cookies == {"failed": "TypeError: Failed to fetch"}
    assert any("'Access-Control-Allow-Credentials' header in the response is ''" in line for line in console)
    # A gateway whose CORS allows no origin (the default) answers this page nothing, key or not.
    assert "failed" in not_allowed, not_allowed
