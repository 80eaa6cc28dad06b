"""Browser safety over real HTTP: foreign ``Host`` values are refused, and the fallback key serves only the
gateway's own origin and clients outside a browser; the emulator's counters prove nothing reached it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.server.browser_safety import (
    FOREIGN_ORIGIN_MESSAGE,
    MISDIRECTED_MESSAGE,
    UNTRUSTED_HOST_MESSAGE,
)
from events_gateway.server.hosts import HostRule, split_host
from events_gateway.settings import Settings, SettingsError

from .conftest import GatewayFactory

CATEGORIES = "{ eventCategories { totalCount } }"
CREATE = (
    'mutation($i: ID!) { createEventCategory(input: {title: "From another site", integrationId: $i}) { id } }'
)
DEMO_AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


async def integration_id(emulator: RunningEmulator) -> str:
    """A real integration of the demo workspace, so a mutation that got through would write."""
    async with httpx.AsyncClient(headers=DEMO_AUTH) as http:
        response = await http.get(f"{emulator.api_url}/integration/integrations/")
    return str(response.json()["results"][0]["id"])


async def upstream_calls(admin: EmulatorAdmin) -> dict[str, int]:
    """Calls the emulator answered since the last reset, by route."""
    by_route: dict[str, int] = (await admin.stats())["by_route"]
    return by_route


def own(gateway: str) -> str:
    return gateway.removeprefix("http://")


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


# --- Host: DNS rebinding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("POST", "/graphql", {"json": {"query": CATEGORIES}}),
        ("GET", "/graphql", {"params": {"query": CATEGORIES}}),
        ("GET", "/readyz", {}),
        ("GET", "/healthz", {}),
        ("GET", "/metrics", {}),
        ("OPTIONS", "/graphql", {"headers": {"Access-Control-Request-Method": "POST"}}),
    ],
)
async def test_a_foreign_host_is_refused_on_every_route_before_any_upstream_call(
    gateway_factory: GatewayFactory,
    emulator_admin: EmulatorAdmin,
    http: httpx.AsyncClient,
    method: str,
    path: str,
    extra: dict[str, Any],
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY, cors_origins=("*",))
    port = gateway.rsplit(":", 1)[1]
    await emulator_admin.reset()
    headers = {**extra.pop("headers", {}), "Host": f"rebound.example:{port}"}
    headers["Origin"] = f"http://rebound.example:{port}"  # same-origin, as the rebinding page sees it
    response = await http.request(method, f"{gateway}{path}", headers=headers, **extra)

    assert response.status_code == 421
    error = response.json()["errors"][0]
    assert error["message"] == MISDIRECTED_MESSAGE
    assert error["extensions"]["code"] == "MISDIRECTED_REQUEST"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert await upstream_calls(emulator_admin) == {}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LocalHost.", "[::1]", "127.0.0.2", "[0:0::1]"])
async def test_loopback_names_are_served_on_a_loopback_bind(
    gateway: str, http: httpx.AsyncClient, host: str
) -> None:
    port = gateway.rsplit(":", 1)[1]
    for value in (f"{host}:{port}", host):
        response = await http.get(f"{gateway}/healthz", headers={"Host": value})
        assert response.status_code == 200, value


async def test_listed_hosts_are_served_with_their_port_or_any(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(allowed_hosts=("gw.example", "pinned.example:8443"))

    async def status(host: str) -> int:
        return (await http.get(f"{gateway}/healthz", headers={"Host": host})).status_code

    assert await status("gw.example:1234") == 200
    assert await status("GW.example") == 200
    assert await status("pinned.example:8443") == 200
    assert await status("pinned.example:8444") == 421
    assert await status("other.example") == 421
    assert await status("127.0.0.1") == 200  # loopback names stay served


async def test_a_non_loopback_bind_serves_any_host_until_the_setting_is_set(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    # Served on 127.0.0.1 like every test server; the rule follows the configured bind address.
    open_bind = await gateway_factory(host="0.0.0.0")  # the setting under test, never bound
    response = await http.get(f"{open_bind}/healthz", headers={"Host": "gw.example"})
    assert response.status_code == 200

    listed = await gateway_factory(host="0.0.0.0", allowed_hosts=("gw.example",))
    assert (await http.get(f"{listed}/healthz", headers={"Host": "gw.example"})).status_code == 200
    assert (await http.get(f"{listed}/healthz", headers={"Host": "other.example"})).status_code == 421

    star = await gateway_factory(allowed_hosts=("*",))
    assert (await http.get(f"{star}/healthz", headers={"Host": "anything.example"})).status_code == 200


def test_an_allowed_host_that_is_no_host_fails_at_build_time() -> None:
    with pytest.raises(SettingsError, match="EVENTS_GATEWAY_ALLOWED_HOSTS"):
        create_app(Settings(upstream_url="http://127.0.0.1:1/api/v1", allowed_hosts=("http://gw.example/",)))


def test_the_setting_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"EVENTS_GATEWAY_ALLOWED_HOSTS": " gw.example, [::2]:8000 ,"})
    assert settings.allowed_hosts == ("gw.example", "[::2]:8000")
    assert Settings.from_env({}).cors_origins == ()
    rule = HostRule.from_settings(settings)
    assert rule.serves("[::2]:8000")
    assert not rule.serves("[::2]:8001")


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("[::1]:80", ("::1", 80)),
        ("[0:0:0:0:0:0:0:1]", ("::1", None)),
        ("Gw.Example.", ("gw.example", None)),
        ("user@gw.example", None),
        ("gw.example/path", None),
        ("gw.example:port", None),
        ("", None),
    ],
)
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


def test_a_request_without_host_is_served_but_never_trusted() -> None:
    """HTTP/1.0 without ``Host`` cannot come from a browser; it is served, but names no trusted host."""
    rule = HostRule.from_settings(Settings())
    assert rule.serves(None)
    assert not rule.trusts(None)


# --- Origin: the fallback key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, a script, a server-side client
        {"Origin": "{own}"},  # the gateway's own GraphiQL page
        {"Sec-Fetch-Site": "same-origin"},  # a same-origin GET: browsers send no Origin then
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # the user's own address bar
        {"Origin": "{own}", "Sec-Fetch-Site": "same-origin", "Referer": "{own}/graphql"},
    ],
    ids=["no-browser", "own-origin", "same-origin-get", "typed-url", "all-agree"],
)
async def test_the_fallback_key_serves_its_own_origin_and_non_browser_clients(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    sent = {name: value.format(own=gateway) for name, value in headers.items()}
    response = await http.get(f"{gateway}/graphql", params={"query": CATEGORIES}, headers=sent)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["eventCategories"]["totalCount"] > 0


FOREIGN = pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost:9999"},
        {"Origin": "http://127.0.0.1:9"},  # another port of the same machine is another origin
        {"Origin": "https://{own}"},  # another scheme too
        {"Origin": "null"},  # sandboxed frames, file: pages
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://{own}"},  # the headers disagree: refuse
        {"Sec-Fetch-Site": "something-new"},
        {"Referer": "http://localhost:9999/page.html"},  # an older browser's no-cors GET
        {"Origin": "http://{own}", "Referer": "http://localhost:9999/"},
    ],
    ids=[
        "other-site",
        "other-port",
        "other-scheme",
        "null-origin",
        "cross-site",
        "same-site",
        "disagreeing",
        "unknown-site",
        "foreign-referer",
        "own-origin-foreign-referer",
    ],
)


@FOREIGN
async def test_a_keyless_request_from_another_origin_is_refused_before_any_upstream_call(
    gateway_factory: GatewayFactory,
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    http: httpx.AsyncClient,
    headers: dict[str, str],
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    integration = await integration_id(emulator)
    await emulator_admin.reset()
    sent = {name: value.format(own=own(gateway)) for name, value in headers.items()}
    attempts = [
        await http.post(f"{gateway}/graphql", json={"query": CATEGORIES}, headers=sent),
        await http.get(f"{gateway}/graphql", params={"query": CATEGORIES}, headers=sent),
        await http.post(
            f"{gateway}/graphql", json={"query": CREATE, "variables": {"i": integration}}, headers=sent
        ),
    ]
    for response in attempts:
        assert response.status_code == 401, response.text
        assert code_of(response) == "UNAUTHENTICATED"
        assert response.json()["errors"][0]["message"] == FOREIGN_ORIGIN_MESSAGE
        assert response.headers["www-authenticate"] == "Bearer"
        assert "data" not in response.json()
    assert await upstream_calls(emulator_admin) == {}


async def test_an_origin_cors_allows_still_needs_its_own_key_and_can_read_why(
    gateway_factory: GatewayFactory, emulator_admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    app_origin = "http://localhost:5173"
    gateway = await gateway_factory(api_key=DEMO_API_KEY, cors_origins=(app_origin,))
    await emulator_admin.reset()
    keyless = await http.post(
        f"{gateway}/graphql", json={"query": CATEGORIES}, headers={"Origin": app_origin}
    )
    assert keyless.status_code == 401
    assert code_of(keyless) == "UNAUTHENTICATED"
    assert keyless.headers["access-control-allow-origin"] == app_origin  # the frontend can read the error
    assert await upstream_calls(emulator_admin) == {}

    keyed = await http.post(
        f"{gateway}/graphql", json={"query": CATEGORIES}, headers={"Origin": app_origin, **DEMO_AUTH}
    )
    assert keyed.status_code == 200
    assert keyed.json()["data"]["eventCategories"]["totalCount"] > 0
    assert keyed.headers["access-control-allow-origin"] == app_origin


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", ""])
async def test_any_authorization_header_is_the_callers_own_and_never_falls_back(
    gateway_factory: GatewayFactory,
    emulator_admin: EmulatorAdmin,
    http: httpx.AsyncClient,
    authorization: str,
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    await emulator_admin.reset()
    response = await http.post(
        f"{gateway}/graphql", json={"query": CATEGORIES}, headers={"Authorization": authorization}
    )
    assert code_of(response) == "UNAUTHENTICATED"
    assert response.json()["data"] is None
    assert await upstream_calls(emulator_admin) == {}


async def test_without_a_fallback_key_nothing_is_lent_and_keyless_requests_run_as_before(
    gateway: str, http: httpx.AsyncClient
) -> None:
    """The rule guards the fallback key; with none, a foreign page's keyless request sees the schema only."""
    headers = {"Origin": "http://localhost:9999", "Sec-Fetch-Site": "cross-site"}
    typename = await http.post(f"{gateway}/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert typename.json() == {"data": {"__typename": "Query"}}
    data = await http.post(f"{gateway}/graphql", json={"query": CATEGORIES}, headers=headers)
    assert code_of(data) == "UNAUTHENTICATED"


async def test_a_browser_on_a_non_loopback_bind_gets_the_fallback_key_only_under_a_listed_name(
    gateway_factory: GatewayFactory, emulator_admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    """Every Host is served on 0.0.0.0 when the setting is unset, so a rebinding page would look
    same-origin: the fallback key still needs a name the gateway knows as its own."""
    rebound = {"Host": "rebound.example", "Origin": "http://rebound.example", "Sec-Fetch-Site": "same-origin"}
    unset = await gateway_factory(host="0.0.0.0", api_key=DEMO_API_KEY)  # never bound
    await emulator_admin.reset()
    refused = await http.post(f"{unset}/graphql", json={"query": CATEGORIES}, headers=rebound)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["message"] == UNTRUSTED_HOST_MESSAGE
    assert await upstream_calls(emulator_admin) == {}
    script = await http.post(
        f"{unset}/graphql", json={"query": CATEGORIES}, headers={"Host": "rebound.example"}
    )
    assert script.status_code == 200  # not a browser: served, as on any open bind

    listed = await gateway_factory(host="0.0.0.0", api_key=DEMO_API_KEY, allowed_hosts=("rebound.example",))
    allowed = await http.post(f"{listed}/graphql", json={"query": CATEGORIES}, headers=rebound)
    assert allowed.status_code == 200
    assert allowed.json()["data"]["eventCategories"]["totalCount"] > 0


# --- simple requests: no preflight, so they must not act -----------------------------------------------


#: What an HTML form can send: a JSON-looking text/plain body, a urlencoded one, a multipart one.
FORM_BODIES = {
    "text/plain": '{"query": "mutation { deleteEvent(id: \\"x\\") { id } }", "pad": "="}',
    "application/x-www-form-urlencoded": "query=mutation+%7B+deleteEvent%28id%3A+%22x%22%29+%7B+id+%7D+%7D",
    "multipart/form-data; boundary=b": (
        '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ x }\r\n--b--'
    ),
}


@pytest.mark.parametrize(
    ("content_type", "body"), FORM_BODIES.items(), ids=["text-plain", "urlencoded", "multipart"]
)
async def test_form_posts_never_run(
    gateway_factory: GatewayFactory,
    emulator_admin: EmulatorAdmin,
    http: httpx.AsyncClient,
    content_type: str,
    body: str,
) -> None:
    form = {"Content-Type": content_type, "Origin": "http://localhost:9999", "Sec-Fetch-Site": "cross-site"}
    with_key = await gateway_factory(api_key=DEMO_API_KEY)
    without_key = await gateway_factory()
    await emulator_admin.reset()
    refused = await http.post(f"{with_key}/graphql", content=body, headers=form)
    assert (refused.status_code, code_of(refused)) == (401, "UNAUTHENTICATED")
    # Without a fallback key the media type is what refuses it: no form body is ever read as GraphQL.
    unsupported = await http.post(f"{without_key}/graphql", content=body, headers=form)
    assert (unsupported.status_code, code_of(unsupported)) == (415, "UNSUPPORTED_MEDIA_TYPE")
    same_origin = {**form, "Origin": with_key, "Sec-Fetch-Site": "same-origin"}
    own_form = await http.post(f"{with_key}/graphql", content=body, headers=same_origin)
    assert (own_form.status_code, code_of(own_form)) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert await upstream_calls(emulator_admin) == {}


async def test_a_script_tag_from_another_site_runs_nothing(
    gateway_factory: GatewayFactory, emulator_admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    """``<script src=…/graphql?query=…>``: no ``Origin`` on a no-cors GET, but ``Sec-Fetch-Site`` tells."""
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    await emulator_admin.reset()
    script = {
        "Accept": "*/*",
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "no-cors",
        "Sec-Fetch-Dest": "script",
    }
    response = await http.get(f"{gateway}/graphql", params={"query": CATEGORIES}, headers=script)
    assert (response.status_code, code_of(response)) == (401, "UNAUTHENTICATED")
    assert await upstream_calls(emulator_admin) == {}


async def test_a_mutation_over_get_runs_for_nobody(
    gateway_factory: GatewayFactory,
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    http: httpx.AsyncClient,
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    params = {"query": CREATE, "variables": f'{{"i": "{await integration_id(emulator)}"}}'}
    await emulator_admin.reset()
    for headers in ({}, DEMO_AUTH, {"Sec-Fetch-Site": "same-origin"}):
        response = await http.get(f"{gateway}/graphql", params=params, headers=headers)
        assert response.status_code == 405
    assert await upstream_calls(emulator_admin) == {}


# --- the rest of the surface ---------------------------------------------------------------------------


async def test_metrics_and_readyz_reveal_nothing_about_a_workspace(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    tree = await http.post(
        f"{gateway}/graphql", json={"query": "query Tree { eventCategories { nodes { id title } } }"}
    )
    nodes = tree.json()["data"]["eventCategories"]["nodes"]
    revealing = [DEMO_API_KEY, *(node["id"] for node in nodes), *(node["title"] for node in nodes)]
    for path in ("/metrics", "/readyz"):
        response = await http.get(f"{gateway}{path}")
        assert response.status_code == 200
        for secret in revealing:
            assert secret not in response.text, (path, secret)
