"""GraphiQL served entirely by the gateway, so it works on a machine without internet access.

Strawberry's built-in page loads React and GraphiQL from a public CDN; this page loads the same UMD builds
(installed by ``make setup`` into ``settings.graphiql_assets``) from the gateway's own asset route, which
serves exactly four known files and nothing else. A Content-Security-Policy keeps every fetch on the
gateway's origin. When the files are missing, the page says how to install them instead of staying blank.
"""

from __future__ import annotations

import html
import json
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from aiohttp import web

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


@dataclass(frozen=True, slots=True)
class Asset:
    """One servable file: its npm package, its path inside ``graphiql_assets`` and its media type."""

    package: str
    path: str
    content_type: str


#: The only files the asset route serves, by URL name; anything else is a 404.
ASSETS: dict[str, Asset] = {
    "react.production.min.js": Asset(
        "react", "react/umd/react.production.min.js", "text/javascript; charset=utf-8"
    ),
    "react-dom.production.min.js": Asset(
        "react-dom", "react-dom/umd/react-dom.production.min.js", "text/javascript; charset=utf-8"
    ),
    "graphiql.min.js": Asset("graphiql", "graphiql/graphiql.min.js", "text/javascript; charset=utf-8"),
    "graphiql.min.css": Asset("graphiql", "graphiql/graphiql.min.css", "text/css; charset=utf-8"),
}

#: The package versions are pinned in web/package.json, and each URL carries its version, so a day's
#: caching is safe and an upgrade is picked up at once.
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


class GraphiQLPage:
    """Renders the page and serves its assets from one folder of npm packages."""

    def __init__(self, assets_dir: Path, *, fallback_key_configured: bool) -> None:
        self._assets_dir = assets_dir
        self._fallback_key_configured = fallback_key_configured

    def missing_assets(self) -> list[str]:
        """Asset paths not present on disk (checked per request, so ``make setup`` needs no restart)."""
        return [asset.path for asset in ASSETS.values() if not (self._assets_dir / asset.path).is_file()]

    def _asset_url(self, name: str) -> str:
        return f"{ASSETS_PREFIX}/{name}?v={self._version(ASSETS[name].package)}"

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
        }
        text = _PAGE.substitute(
            nonce=nonce,
            # JSON inside <script>: escaping "<" keeps "</script>" in a string from closing the element.
            config=json.dumps(config).replace("<", "\\u003c"),
            react_js=self._asset_url("react.production.min.js"),
            react_dom_js=self._asset_url("react-dom.production.min.js"),
            graphiql_js=self._asset_url("graphiql.min.js"),
            graphiql_css=self._asset_url("graphiql.min.css"),
        )
        return web.Response(text=text, content_type="text/html", headers=headers)

    async def serve_asset(self, request: web.Request) -> web.StreamResponse:
        """``GET /graphql/assets/{name}``: one of the known files, or 404 (no paths, no traversal)."""
        asset = ASSETS.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound(text="Unknown asset.")
        path = self._assets_dir / asset.path
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
