"""GraphiQL is served from the gateway's own files; the switches turn the page and introspection off."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin
from events_gateway.server import ASSETS, DEMO_QUERY, PLAN_HEADER
from events_gateway.server.graphiql import STATIC_DIR
from events_gateway.settings import DEFAULT_GRAPHIQL_ASSETS

from .conftest import GatewayFactory

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INTROSPECTION = "{ __schema { queryType { name } } }"

needs_assets = pytest.mark.skipif(
    not (DEFAULT_GRAPHIQL_ASSETS / "graphiql" / "graphiql.min.js").is_file(),
    reason="GraphiQL's files are not installed (run `make setup`)",
)


@needs_assets
async def test_the_page_loads_every_script_and_style_from_the_gateway(
    gateway: str, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{gateway}/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    sources = [url for url in re.findall(r'(?:src|href)="([^"]+)"', page) if not url.startswith("data:")]
    assert {urlsplit(source).path for source in sources} == {f"/graphql/assets/{name}" for name in ASSETS}
    assert "http://" not in page
    assert "https://" not in page
    csp = response.headers["content-security-policy"]
    assert "connect-src 'self'" in csp
    assert "default-src 'none'" in csp
    for source in sources:
        asset = await http.get(f"{gateway}{source}")
        assert asset.status_code == 200, source


@needs_assets
async def test_the_page_own_files_carry_their_digest_so_a_change_is_fetched_at_once(
    gateway: str, http: httpx.AsyncClient
) -> None:
    page = (await http.get(f"{gateway}/graphql", headers=BROWSER)).text
    digest = hashlib.sha256((STATIC_DIR / "call-plan.js").read_bytes()).hexdigest()[:12]
    assert f"/graphql/assets/call-plan.js?v={digest}" in page


def page_config(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="graphiql-config">(.*?)</script>', page, re.S)
    assert found is not None, page
    config: dict[str, Any] = json.loads(found.group(1))
    return config


@needs_assets
@pytest.mark.parametrize(("setting", "available"), [("on", True), ("off", False), ("auto", False)])
async def test_the_page_tells_the_call_plan_panel_whether_it_may_ask(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, setting: str, available: bool
) -> None:
    gateway = await gateway_factory(upstream_plan=setting)
    page = (await http.get(f"{gateway}/graphql", headers=BROWSER)).text
    assert page_config(page)["upstreamPlan"] == {
        "available": available,
        "header": PLAN_HEADER,
        "setting": "EVENTS_GATEWAY_UPSTREAM_PLAN",
    }


# --- a link to /graphql?query=… opens GraphiQL in a browser, and stays a GraphQL request elsewhere ----

#: What Chromium sends when a user opens a link (a top-level navigation).
NAVIGATION = {**BROWSER, "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none"}
LINK = {"query": "query Linked { __typename }", "variables": '{"a": 1}', "operationName": "Linked"}


@needs_assets
async def test_a_browser_opening_a_link_with_a_query_gets_graphiql(
    gateway: str, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{gateway}/graphql", params=LINK, headers=NAVIGATION)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "shareable-url.js" in response.text  # the page reads the link's parameters itself


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="a script"),
        pytest.param(BROWSER, id="a browser-like Accept alone"),
        pytest.param(
            {**BROWSER, "Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"}, id="fetch from a page"
        ),
        pytest.param({"Accept": "*/*", "Sec-Fetch-Dest": "script"}, id="a script tag"),
        pytest.param({"Accept": "application/json", "Sec-Fetch-Dest": "document"}, id="no HTML wanted"),
    ],
)
async def test_any_other_get_with_a_query_is_still_answered_with_json(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    response = await http.get(f"{gateway}/graphql", params=LINK, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_link_with_graphiql_off_is_answered_with_json(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(graphiql=False)
    response = await http.get(f"{gateway}/graphql", params=LINK, headers=NAVIGATION)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@needs_assets
async def test_opening_a_link_runs_nothing_even_a_mutation(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    await emulator_admin.reset()
    mutation = 'mutation { createEventCategory(input: {title: "by link", integrationId: "x"}) { id } }'
    for query in (mutation, "{ eventCategories { totalCount } }"):
        response = await http.get(f"{gateway}/graphql", params={"query": query}, headers=NAVIGATION)
        assert response.headers["content-type"].startswith("text/html")
    assert (await emulator_admin.stats())["total"] == 0


@needs_assets
async def test_the_page_opens_with_the_demo_nested_query(gateway: str, http: httpx.AsyncClient) -> None:
    page = (await http.get(f"{gateway}/graphql", headers=BROWSER)).text
    assert json.dumps(DEMO_QUERY).replace("<", "\\u003c") in page


async def test_the_demo_query_runs_and_walks_three_levels(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    body = (await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY})).json()
    assert "errors" not in body, body
    categories = body["data"]["eventCategories"]["nodes"]
    landing = next(c for c in categories if c["title"] == "Landing Page")
    viewed = next(e for e in landing["events"]["nodes"] if e["title"] == "Landing Page Viewed")
    assert {p["title"] for p in viewed["properties"]["nodes"]} >= {"page_url", "session_id"}


@needs_assets
async def test_without_a_fallback_key_the_headers_editor_shows_where_the_key_goes(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    without = (await http.get(f"{await gateway_factory()}/graphql", headers=BROWSER)).text
    assert "Bearer YOUR_SECODA_API_KEY" in without
    with_key = (
        await http.get(f"{await gateway_factory(api_key=DEMO_API_KEY)}/graphql", headers=BROWSER)
    ).text
    assert "YOUR_SECODA_API_KEY" not in with_key
    assert DEMO_API_KEY not in with_key


async def test_missing_assets_give_install_instructions_not_a_blank_page(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    gateway = await gateway_factory(graphiql_assets=tmp_path / "nothing-here")
    response = await http.get(f"{gateway}/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert "make setup" in response.text
    assert "npm ci --prefix web" in response.text
    asset = await http.get(f"{gateway}/graphql/assets/graphiql.min.js")
    assert asset.status_code == 404
    assert "make setup" in asset.text


@needs_assets
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("plugin-explorer.umd.js", "text/javascript"),
        ("plugin-explorer.css", "text/css"),
        ("call-plan.js", "text/javascript"),
        ("call-plan.css", "text/css"),
        ("shareable-url.js", "text/javascript"),
    ],
)
async def test_known_assets_are_served_with_type_and_cache_headers(
    gateway: str, http: httpx.AsyncClient, name: str, content_type: str
) -> None:
    response = await http.get(f"{gateway}/graphql/assets/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    folder = STATIC_DIR if ASSETS[name].package is None else DEFAULT_GRAPHIQL_ASSETS
    assert response.content == (folder / ASSETS[name].path).read_bytes()
    etag = response.headers["etag"]
    again = await http.get(f"{gateway}/graphql/assets/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "graphiql.js",
        "graphiql.min.js.map",
        "package.json",
        "..%2Fgraphiql%2Fpackage.json",
        "%2e%2e%2f%2e%2e%2fpyproject.toml",
        "..%5C..%5Cpyproject.toml",
        "../../pyproject.toml",
        "react%2Fumd%2Freact.production.min.js",
        "react/umd/react.production.min.js",
        "",
    ],
)
async def test_anything_else_under_assets_is_404(gateway: str, http: httpx.AsyncClient, path: str) -> None:
    # Sent raw, so httpx does not normalise the dots or the escapes away.
    url = httpx.URL(f"{gateway}/graphql/assets/").copy_with(raw_path=f"/graphql/assets/{path}".encode())
    response = await http.get(url)
    assert response.status_code == 404
    assert b"[build-system]" not in response.content
    assert b'"name": "graphiql"' not in response.content


async def test_graphiql_off_means_no_page_and_no_assets(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(graphiql=False)
    page = await http.get(f"{gateway}/graphql", headers=BROWSER)
    assert page.status_code == 404
    assert "<html" not in page.text
    asset = await http.get(f"{gateway}/graphql/assets/graphiql.min.js")
    assert asset.status_code == 404
    query = await http.get(f"{gateway}/graphql", params={"query": "{ __typename }"})
    assert query.status_code == 200
    assert query.json() == {"data": {"__typename": "Query"}}


async def test_introspection_is_answered_by_default(gateway: str, http: httpx.AsyncClient) -> None:
    body = (await http.post(f"{gateway}/graphql", json={"query": INTROSPECTION})).json()
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_off_refuses_schema_queries_but_not_others(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(introspection=False, api_key=DEMO_API_KEY)
    refused = (await http.post(f"{gateway}/graphql", json={"query": INTROSPECTION})).json()
    assert refused.get("data") is None
    assert "introspection" in refused["errors"][0]["message"].lower()
    answered = (
        await http.post(f"{gateway}/graphql", json={"query": "{ eventCategories { totalCount } }"})
    ).json()
    assert answered["data"]["eventCategories"]["totalCount"] > 0
