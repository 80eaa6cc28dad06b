"""The gateway's three kinds of object, how the upstream spells them, and what to call them in messages.

The upstream names a resource's kind in ``entity_type``, with more than one spelling per kind; the catalog
filter names the same kinds in ``type`` (``upstream.filters.CATEGORY`` and friends). Everything in the
graph that asks "what is this resource" asks ``kind_of``.
"""

from __future__ import annotations

from typing import Final

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY, Resource

#: ``entity_type`` spellings, mapped onto the gateway's three kinds.
_KINDS: Final = {
    "category": CATEGORY,
    "event_category": CATEGORY,
    "event": EVENT,
    "event_property": EVENT_PROPERTY,
    "property": EVENT_PROPERTY,
}

#: Each kind as a sentence names it (``No event property has the id …``).
KIND_NAMES: Final = {CATEGORY: "event category", EVENT: "event", EVENT_PROPERTY: "event property"}


def kind_of(resource: Resource) -> str | None:
    """The gateway kind of a resource, or ``None`` for a resource of another kind (a table, say)."""
    return _KINDS.get(str(resource.get("entity_type", "")).lower())
