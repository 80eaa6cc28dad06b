"""GraphiQL served entirely by the gateway, so it works on a machine without internet access.

Strawberry's built-in page loads React and GraphiQL from a public CDN; this page loads the same UMD builds
(installed by ``make setup`` into ``settings.graphiql_assets``, or carried by the wheel) from the gateway's
own asset route, which serves the known files of :data:`ASSETS` and nothing else: the npm packages' builds,
and the page's own scripts in ``static/`` (the call-plan panel, the shareable URL). A
Content-Security-Policy keeps every fetch on the gateway's origin. When the npm files are missing, the page
says how to install them instead of staying blank.

A browser that opens a link to ``/graphql?query=…`` gets the page too (:func:`opens_graphiql`), and the
page fills its editors in from the link.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from aiohttp import web

from .call_plan import PLAN_HEADER

ENDPOINT = "/graphql"
ASSETS_PREFIX = "/graphql/assets"

#: The query GraphiQL opens with: the whole hierarchy in one request.
DEMO_QUERY = """\
# Every event category, with its events,
# with their properties: one GraphQL request,
# a few batched REST calls. Ctrl-Enter runs it.
query CategoriesEventsProperties {
  eventCategories(first: 10) {
    totalCount
    nodes {
      id
      title
      events(first: 10) {
        totalCount
        nodes {
          id
          title
          properties(first: 20) {
            nodes {
              id
              title
              type
              isRequired
            }
          }
        }
      }
    }
  }
}
"""

#: Shown in the headers editor when the gateway has no fallback key, so callers see where theirs goes.
HEADERS_TEMPLATE = '{\n  "Authorization": "Bearer YOUR_SECODA_API_KEY"\n}'


JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
#: The page's own scripts and styles, shipped inside this package (not from npm).
STATIC_DIR = Path(__file__).with_name("static")


@dataclass(frozen=True, slots=True)
class Asset:
    """One servable file: its npm package (``None``: one of the page's own files, in ``STATIC_DIR``), its
    path inside ``graphiql_assets`` (or ``STATIC_DIR``) and its media type."""

    package: str | None
    path: str
    content_type: str


#: The only files the asset route serves, by URL name; anything else is a 404.
ASSETS: dict[str, Asset] = {
    "react.production.min.js": Asset("react", "react/umd/react.production.min.js", JS),
    "react-dom.production.min.js": Asset("react-dom", "react-dom/umd/react-dom.production.min.js", JS),
    "graphiql.min.js": Asset("graphiql", "graphiql/graphiql.min.js", JS),
    "graphiql.min.css": Asset("graphiql", "graphiql/graphiql.min.css", CSS),
    "plugin-explorer.umd.js": Asset(
        "@graphiql/plugin-explorer", "@graphiql/plugin-explorer/dist/index.umd.js", JS
    ),
    "plugin-explorer.css": Asset(
        "@graphiql/plugin-explorer", "@graphiql/plugin-explorer/dist/style.css", CSS
    ),
    "call-plan.js": Asset(None, "call-plan.js", JS),
    "call-plan.css": Asset(None, "call-plan.css", CSS),
    "shareable-url.js": Asset(None, "shareable-url.js", JS),
}

#: The package versions are pinned in web/package.json, and each URL carries its version (the page's own
#: files: a digest of their content), so a day's caching is safe and an upgrade is picked up at once.
ASSET_CACHE_CONTROL = "public, max-age=86400"
PAGE_CACHE_CONTROL = "no-cache"

_CSP = (
    "default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


_PAGE = _template("graphiql.html")
_MISSING = _template("graphiql_missing.html")


def opens_graphiql(method: str, query: Mapping[str, object], headers: Mapping[str, str]) -> bool:
    """Whether a request with a ``query`` parameter is a browser opening a shared link to GraphiQL,
    rather than a GraphQL request over GET.

    Only a top-level navigation qualifies: the browser itself sets ``Sec-Fetch-Dest: document`` (a page's
    script cannot), and asks for HTML. A ``fetch`` from a page, a ``<script>`` tag, ``curl`` or a CDN does
    not send that pair, so every GraphQL GET keeps its JSON answer whatever its ``Accept``. Browsers send the
    ``Sec-Fetch-*`` headers only to secure origins (HTTPS, loopback); elsewhere the link answers JSON as
    before. (Without a ``query``, Strawberry's own rule serves the page to any browser.)
    """
    return (
        method == "GET"
        and "query" in query
        and headers.get("Sec-Fetch-Dest", "").lower() == "document"
        and "text/html" in headers.get("Accept", "")
    )


class GraphiQLPage:
    """Renders the page and serves its assets from one folder of npm packages and the page's own files."""

    def __init__(
        self, assets_dir: Path, *, fallback_key_configured: bool, upstream_plan: bool = False
    ) -> None:
        self._assets_dir = assets_dir
        self._fallback_key_configured = fallback_key_configured
        self._upstream_plan = upstream_plan
        # The page's own files change only with the package: their digests are taken once.
        self._static_versions = {
            name: hashlib.sha256(self._path(asset).read_bytes()).hexdigest()[:12]
            for name, asset in ASSETS.items()
            if asset.package is None
        }

    def missing_assets(self) -> list[str]:
        """npm asset paths not present on disk (checked per request, so ``make setup`` needs no restart)."""
        return [
            asset.path
            for asset in ASSETS.values()
            if asset.package is not None and not self._path(asset).is_file()
        ]

    def _path(self, asset: Asset) -> Path:
        return (STATIC_DIR if asset.package is None else self._assets_dir) / asset.path

    def _asset_url(self, name: str) -> str:
        package = ASSETS[name].package
        version = self._static_versions[name] if package is None else self._version(package)
        return f"{ASSETS_PREFIX}/{name}?v={version}"

    def _version(self, package: str) -> str:
        try:
            manifest = json.loads((self._assets_dir / package / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "0"
        version = manifest.get("version") if isinstance(manifest, dict) else None
        return version if isinstance(version, str) and version.replace(".", "").isalnum() else "0"

    def render(self) -> web.Response:
        """The GraphiQL page, or the install instructions when its files are missing."""
        nonce = secrets.token_urlsafe(16)
        headers = {
            "Cache-Control": PAGE_CACHE_CONTROL,
            "Content-Security-Policy": _CSP.format(nonce=nonce),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        missing = self.missing_assets()
        if missing:
            text = _MISSING.substitute(
                assets=html.escape(str(self._assets_dir)),
                missing=html.escape(", ".join(missing)),
                endpoint=ENDPOINT,
            )
            return web.Response(text=text, content_type="text/html", headers=headers)
        config = {
            "endpoint": ENDPOINT,
            "defaultQuery": DEMO_QUERY,
            "defaultHeaders": None if self._fallback_key_configured else HEADERS_TEMPLATE,
            "storageNamespace": "events-gateway",
            # Whether the call-plan panel may ask for ``extensions.upstream``; when not, it says how.
            "upstreamPlan": {
                "available": self._upstream_plan,
                "header": PLAN_HEADER,
                "setting": "EVENTS_GATEWAY_UPSTREAM_PLAN",
            },
        }
        text = _PAGE.substitute(
            nonce=nonce,
            # JSON inside <script>: escaping "<" keeps "</script>" in a string from closing the element.
            config=json.dumps(config).replace("<", "\\u003c"),
            react_js=self._asset_url("react.production.min.js"),
            react_dom_js=self._asset_url("react-dom.production.min.js"),
            graphiql_js=self._asset_url("graphiql.min.js"),
            graphiql_css=self._asset_url("graphiql.min.css"),
            explorer_js=self._asset_url("plugin-explorer.umd.js"),
            explorer_css=self._asset_url("plugin-explorer.css"),
            call_plan_js=self._asset_url("call-plan.js"),
            call_plan_css=self._asset_url("call-plan.css"),
            shareable_url_js=self._asset_url("shareable-url.js"),
        )
        return web.Response(text=text, content_type="text/html", headers=headers)

    async def serve_asset(self, request: web.Request) -> web.StreamResponse:
        """``GET /graphql/assets/{name}``: one of the known files, or 404 (no paths, no traversal)."""
        asset = ASSETS.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound(text="Unknown asset.")
        path = self._path(asset)
        if not path.is_file():
            raise web.HTTPNotFound(text="GraphiQL's files are not installed; run `make setup`.")
        return web.FileResponse(
            path,
            headers={
                "Content-Type": asset.content_type,
                "Cache-Control": ASSET_CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
            },
        )
