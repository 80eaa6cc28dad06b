"""Parsed documents and their validation are cached across requests, and the limits still apply to both."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache
from strawberry.types import ExecutionResult

from events_gateway.emulator import RunningEmulator
from events_gateway.graph import ErrorCode
from events_gateway.graph.schema import DOCUMENT_CACHE_SIZE

from .conftest import GatewayFor


def _cache(get: Callable[[int], Callable[..., Any]]) -> functools._lru_cache_wrapper[Any]:
    """Strawberry's document cache of the schema's size: typed as a plain callable, an lru_cache really."""
    return cast("functools._lru_cache_wrapper[Any]", get(DOCUMENT_CACHE_SIZE))


def _codes(result: ExecutionResult) -> list[str | None]:
    return [(error.extensions or {}).get("code") for error in result.errors or ()]


async def test_a_document_sent_again_is_neither_parsed_nor_validated_again(
    gateway_for: GatewayFor, emulator: RunningEmulator
) -> None:
    gateway = gateway_for(emulator)
    # A document no other test sends, so its first sight is a miss wherever the shared caches stand.
    query = "query CachedTwice { eventCategories(first: 1) { totalCount nodes { id } } }"
    parse_cache, validate_cache = _cache(_get_parse_cache), _cache(_get_validate_cache)

    first = await gateway.data(query)
    parsed, validated = parse_cache.cache_info(), validate_cache.cache_info()
    second = await gateway.data(query)

    assert second == first
    assert parse_cache.cache_info().hits == parsed.hits + 1
    assert parse_cache.cache_info().misses == parsed.misses
    assert validate_cache.cache_info().hits == validated.hits + 1
    assert validate_cache.cache_info().misses == validated.misses


async def test_limits_refuse_a_document_every_time_even_once_cached(
    gateway_for: GatewayFor, emulator: RunningEmulator
) -> None:
    gateway = gateway_for(emulator, max_depth=3, max_document_bytes=200)
    too_deep = "{ eventCategories { nodes { events { nodes { properties { nodes { id } } } } } } }"
    too_long = "{ eventCategories { totalCount } }" + " " * 300
    parse_cache = _cache(_get_parse_cache)
    for query in (too_deep, too_long):
        for _ in range(2):
            parsed = parse_cache.cache_info()
            result = await gateway.run(query)
            assert result.data is None
            assert _codes(result) == [ErrorCode.QUERY_TOO_COMPLEX]
            if query is too_long:  # refused before the parser, cached or not, ever saw it
                assert parse_cache.cache_info() == parsed
