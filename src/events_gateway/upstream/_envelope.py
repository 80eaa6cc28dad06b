"""Reading the upstream's bodies tolerantly: the pagination envelope, resource objects and ids.

The upstream's documentation disagrees with itself (``null`` versus the string ``"None"``, ``links.next``
versus a top-level ``next``, ``parent`` versus ``parent_id``, hyphenated versus bare-hex ids), so every
variant is read here, in one place, and the rest of the gateway sees one normalised shape.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

#: The page's own keys besides ``results`` that ``parse_page`` and ``next_link`` read (a page decoded for a
#: projection keeps these: ``projection.py``).
ENVELOPE_KEYS = ("count", "links", "meta", "next", "total_pages")
#: Values that mean "no link" in the wild: JSON ``null``, an empty string, and the docs' ``"None"``.
_NO_LINK = frozenset({"", "None", "none", "null"})

#: The canonical spelling; ids already in it (nearly all of them) skip the slower ``uuid.UUID`` parse.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class EnvelopeError(ValueError):
    """A 2xx body that is not the JSON shape expected; mapped to ``UpstreamUnavailable`` by the client."""


def normalise_id(value: Any) -> Any:
    """A UUID in any spelling (bare hex, upper case, braces) as hyphenated lower case; others unchanged."""
    if isinstance(value, str):
        if _CANONICAL_UUID.fullmatch(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def path_id(value: str) -> str:
    """An id ready for a URL path: a normalised UUID, or anything else percent-encoded in full.

    A non-UUID id is still sent (the upstream answers 404 for it), but it can never add a path segment.
    """
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return quote(value, safe="")


def normalise_resource(raw: Any) -> dict[str, Any]:
    """One resource object: ``id`` hyphenated, ``parent = parent ?? parent_id`` hyphenated, rest as sent.

    Normalises in place: the object is freshly decoded and nobody else holds it.
    """
    if not isinstance(raw, dict):
        raise EnvelopeError("a resource is not a JSON object")
    resource = raw
    canonical = _CANONICAL_UUID.fullmatch
    # The common case, ids already canonical (every list page holds dozens), is read without a call.
    resource_id = resource.get("id")
    if resource_id is not None and not (type(resource_id) is str and canonical(resource_id)):
        resource["id"] = normalise_id(resource_id)
    parent = resource.get("parent")
    if type(parent) is str and canonical(parent):
        return resource
    if parent is None:
        parent = resource.get("parent_id")
    if isinstance(parent, dict):  # an expanded parent object
        parent = parent.get("id")
    if isinstance(parent, str) and parent in _NO_LINK:
        parent = None
    resource["parent"] = normalise_id(parent)
    return resource


def next_link(body: dict[str, Any]) -> str | None:
    """``links.next``, else a top-level ``next``; ``null``, ``"None"`` or a missing key mean none."""
    links = body.get("links")
    candidate = links.get("next") if isinstance(links, dict) else None
    if candidate is None:
        candidate = body.get("next")
    if isinstance(candidate, str) and candidate.strip() not in _NO_LINK:
        return candidate.strip()
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_page(
    body: Any, *, requested_page: int
) -> tuple[list[dict[str, Any]], int, int, int | None, str | None]:
    """The parts of a ``Page``: results, count, page, total_pages, next_url.

    A bare JSON list (an unpaginated endpoint) is read as a single last page.
    """
    if isinstance(body, list):
        results = [normalise_resource(item) for item in body]
        return results, len(results), requested_page, 1, None
    if not isinstance(body, dict):
        raise EnvelopeError("a list response is not a JSON object")
    raw_results = body.get("results")
    if raw_results is None:
        raw_results = []
    if not isinstance(raw_results, list):
        raise EnvelopeError("a list response's results is not an array")
    results = [normalise_resource(item) for item in raw_results]
    count = _int_or_none(body.get("count"))
    meta = body.get("meta")
    page = _int_or_none(meta.get("page")) if isinstance(meta, dict) else None
    return (
        results,
        len(results) if count is None else count,
        requested_page if page is None else page,
        _int_or_none(body.get("total_pages")),
        next_link(body),
    )
