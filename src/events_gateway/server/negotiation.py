"""Which media type ``/graphql`` answers in, and which request bodies it reads (GraphQL over HTTP).

The spec's two response types differ only in their status codes: with
``application/graphql-response+json`` a 4xx means "nothing ran", which a client can trust even through
proxies; with ``application/json`` every well-formed request gets 200. The choices the spec leaves open
(docs/http.md gives the reasons):

- no ``Accept`` header: ``application/graphql-response+json``, the spec's default since its 2025 watershed;
- a type the client names outright beats one it only reaches by a wildcard, at equal q-values;
- both types named at equal q-values: ``application/graphql-response+json``, the spec's own;
- both reached only by a wildcard (``*/*``, ``application/*``): ``application/json``, so a client that
  never asked for the new type (Apollo Client 3 sends ``*/*``, as does ``fetch`` by default) is not
  handed its 4xx status codes: a validation error then arrives as a 200 with ``errors``, which such a
  client shows as GraphQL errors rather than as a bare network error;
- an ``Accept`` that admits neither type: 406 (the option the spec recommends over ignoring ``Accept``);
- a POST body: ``application/json`` in UTF-8 only (charset absent or ``utf-8``), else 415 — the spec lets
  a server take more types, and warns that doing so can be insecure (form posts skip CORS preflights).
"""

from __future__ import annotations

from typing import Final

import mimeparse

from ..graph import ErrorCode
from .errors import RequestRefused

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"
RESPONSE_TYPES: Final = (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON)
#: ``mimeparse``'s fitness of a range that names the type and subtype outright (no wildcard in either).
_NAMED: Final = 110

UNSUPPORTED_MEDIA_TYPE_MESSAGE: Final = (
    "Send the request body as JSON with 'Content-Type: application/json' (UTF-8); got {got}."
)


def response_media_type(accept: str | None) -> str:
    """The media type to answer a request with this ``Accept`` header in.

    Raises ``RequestRefused`` (406) when the header admits neither type.

    Example::

        response_media_type("application/graphql-response+json, application/json;q=0.9")
        # 'application/graphql-response+json'
        response_media_type("*/*")  # 'application/json'
    """
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    try:
        ranges = [mimeparse.parse_media_range(part) for part in accept.split(",") if part.strip()]
    except ValueError:  # a range mimeparse cannot read (e.g. "json"); the header admits nothing we know
        ranges = []
    ranked = []
    for media_type in RESPONSE_TYPES:
        quality, fitness = mimeparse.quality_and_fitness_parsed(media_type, ranges)
        if quality > 0:
            named = fitness >= _NAMED
            preferred = media_type == (GRAPHQL_RESPONSE_JSON if named else APPLICATION_JSON)
            ranked.append(((quality, named, preferred), media_type))
    if not ranked:
        raise RequestRefused(406, ErrorCode.NOT_ACCEPTABLE)
    return max(ranked)[1]


def check_request_body_type(content_type: str | None) -> None:
    """Accept a POST body only as ``application/json`` in UTF-8; raise ``RequestRefused`` (415) otherwise."""
    got = repr(content_type) if content_type else "no Content-Type"
    refused = RequestRefused(
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        UNSUPPORTED_MEDIA_TYPE_MESSAGE.format(got=got),
        headers={"Accept-Post": f"{APPLICATION_JSON}; charset=utf-8"},
    )
    if not content_type:
        raise refused
    try:
        kind, subtype, params = mimeparse.parse_mime_type(content_type)
    except ValueError:
        raise refused from None
    charset = params.get("charset", "utf-8").strip().lower()
    if f"{kind}/{subtype}".lower() != APPLICATION_JSON or charset not in ("utf-8", "utf8"):
        raise refused
