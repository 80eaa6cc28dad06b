"""The upstream part's public surface is exactly its ``__all__``, and every name in it exists."""

from __future__ import annotations

import events_gateway.upstream as upstream

EXPECTED = {
    # the client
    "UpstreamClient",
    "UpstreamSession",
    "UpstreamSettings",
    "Page",
    "Resource",
    "UpstreamCall",
    "CallObserver",
    "default_transport",
    # the paging engine
    "Pager",
    "PagingLimits",
    "PageFetcher",
    "PageSizeMemo",
    "CapReached",
    # the errors
    "UpstreamError",
    "UpstreamUnreachable",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamRejected",
    "Unauthenticated",
    "Forbidden",
    "NotFound",
    "BadRequest",
    "RateLimited",
    "UpstreamMisuse",
    # the catalog filter builders
    "Filter",
    "Sort",
    "exact",
    "contains",
    "in_",
    "is_set",
    "and_",
    "or_",
    "not_",
    "sort",
    "STABLE_SORT",
    "CATEGORY",
    "EVENT",
    "EVENT_PROPERTY",
}


def test_all_is_the_public_surface() -> None:
    assert set(upstream.__all__) == EXPECTED
    assert len(upstream.__all__) == len(set(upstream.__all__))


def test_every_exported_name_exists() -> None:
    for name in upstream.__all__:
        assert hasattr(upstream, name), name


def test_exported_classes_say_where_they_live() -> None:
    for name in upstream.__all__:
        value = getattr(upstream, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, type):
            assert module is not None
            assert module.startswith("events_gateway.upstream"), name
