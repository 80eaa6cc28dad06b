"""Who and what an entry is filed under: the keyed hash, the canonical request, the hierarchy's scopes; and
the package's surface and layering."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from events_gateway.cache import CacheConfig, Hierarchy, KeyHasher, canonical_request
from events_gateway.server import cache_config
from events_gateway.settings import Settings, SettingsError

from .conftest import TREE


def test_the_key_hash_depends_on_the_secret_and_reveals_nothing_of_the_key() -> None:
    api_key = "d736dd50-5d06-4c1e-9a3b-2f6e8c0d4a17"
    one, other = KeyHasher("secret one"), KeyHasher("secret two")

    assert one.hash(api_key) == KeyHasher("secret one").hash(api_key)
    assert one.hash(api_key) != other.hash(api_key)
    assert one.hash(api_key) != one.hash(api_key.upper())
    assert one.hash(api_key).digest not in hashlib.sha256(api_key.encode()).hexdigest()
    for text in (repr(one), repr(one.hash(api_key)), str(one.hash(api_key))):
        assert api_key not in text
        assert "secret one" not in text


def test_random_hashers_do_not_agree() -> None:
    assert KeyHasher.random().hash("k") != KeyHasher.random().hash("k")


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        KeyHasher("")


def test_equal_requests_have_one_spelling() -> None:
    a = canonical_request("get", "/event/events/", [("title", "a b"), ("page", "2")])
    b = canonical_request("GET", "/event/events/", {"page": "2", "title": "a b"})
    assert a == b == "GET /event/events/?page=2&title=a%20b"
    assert canonical_request("GET", "/event/events/") == "GET /event/events/"


def test_no_value_can_pose_as_another_parameter() -> None:
    forged = canonical_request("GET", "/p", {"a": "1&b=2"})
    honest = canonical_request("GET", "/p", {"a": "1", "b": "2"})
    assert forged != honest


def test_repeated_parameters_keep_their_order() -> None:
    first = canonical_request("GET", "/p", [("id", "2"), ("id", "1")])
    second = canonical_request("GET", "/p", [("id", "1"), ("id", "2")])
    assert first != second


def test_an_id_cannot_pose_as_another_scope() -> None:
    assert TREE.object_deps("event", "1:2") != TREE.object_deps("event", "1")
    assert all(" " not in scope and "\n" not in scope for scope in TREE.object_deps("event", "a b\nc"))


@pytest.mark.parametrize(
    ("write", "changed", "unchanged"),
    [
        (
            TREE.updated("event", "e1", parent_id="c1"),
            [
                TREE.object_deps("event", "e1"),
                TREE.children_deps("category", "c1", "event"),
                TREE.list_deps("event"),
            ],
            [TREE.object_deps("category", "c1"), TREE.children_deps("category", "c2", "event")],
        ),
        (
            TREE.created("property", "p1", parent_id="e1", grandparent_id="c1"),
            [
                TREE.children_deps("event", "e1", "property"),
                TREE.object_deps("event", "e1"),  # its children_count
                TREE.children_deps("category", "c1", "event"),  # where e1 and its count are listed
                TREE.list_deps("event"),
            ],
            [TREE.children_deps("category", "c2", "event"), TREE.object_deps("property", "p2")],
        ),
        (
            TREE.updated("event", "e1", parent_id="c2", moved_from="c1"),
            [
                TREE.children_deps("category", "c1", "event"),
                TREE.children_deps("category", "c2", "event"),
                TREE.object_deps("category", "c1"),
                TREE.object_deps("category", "c2"),
            ],
            [TREE.children_deps("event", "e2", "property")],
        ),
        (
            TREE.deleted("event", "e1"),  # parent unknown: every list of events, every category's count
            [
                TREE.children_deps("category", "c9", "event"),
                TREE.children_deps("event", "e5", "property"),
                TREE.object_deps("category", "c9"),
            ],
            [],
        ),
        (
            TREE.deleted("property", "p1", parent_id="e1", grandparent_id="c1"),
            [TREE.object_deps("property", "p1"), TREE.object_deps("event", "e1")],
            [TREE.object_deps("event", "e2"), TREE.object_deps("category", "c1")],
        ),
    ],
)
def test_a_write_bumps_exactly_what_the_reads_of_it_depend_on(
    write: tuple[str, ...], changed: list[tuple[str, ...]], unchanged: list[tuple[str, ...]]
) -> None:
    for deps in changed:
        assert set(deps) & set(write), deps
    for deps in unchanged:
        assert not set(deps) & set(write), deps


def test_a_hierarchy_refuses_kinds_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        TREE.object_deps("widget", "1")
    with pytest.raises(ValueError, match="not a child kind"):
        TREE.children_deps("category", "c1", "property")
    with pytest.raises(ValueError, match="distinct"):
        Hierarchy(("a", "a"))


def test_the_cache_settings_come_from_the_gateway_settings() -> None:
    settings = Settings.from_env(
        {
            "EVENTS_GATEWAY_CACHE_TTL": "2.5",
            "EVENTS_GATEWAY_CACHE_STALE": "0",
            "EVENTS_GATEWAY_CACHE_MAX_BYTES": "1000000",
            "EVENTS_GATEWAY_CACHE_SECRET": "s3cret",
            "EVENTS_GATEWAY_REDIS_URL": "redis://:password@redis.internal:6379/2",
        }
    )
    config = cache_config(settings)

    assert (config.ttl, config.stale, config.max_bytes) == (2.5, 0.0, 1_000_000)
    assert config.redis_url == "redis://:password@redis.internal:6379/2"
    for text in (repr(settings), repr(config)):
        assert "password" not in text
        assert "s3cret" not in text
    assert not CacheConfig(ttl=0).enabled


def test_the_defaults_keep_the_freshness_promise() -> None:
    settings = Settings()
    assert (settings.cache_ttl, settings.cache_stale) == (5.0, 60.0)
    assert settings.redis_url is None


def test_the_cache_imports_nothing_from_the_graph_the_server_or_the_upstream() -> None:
    """The fetch engine (upstream) and the server use the cache; it must not use them back."""
    probe = (
        "import sys, events_gateway.cache; "
        "print(sorted(m for m in sys.modules if m.startswith('events_gateway.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for part in ("graph", "server", "upstream", "emulator", "observability"):
        assert f"'events_gateway.{part}" not in loaded, loaded


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EVENTS_GATEWAY_CACHE_TTL", "-1"),
        ("EVENTS_GATEWAY_CACHE_STALE", "-0.5"),
        ("EVENTS_GATEWAY_CACHE_MAX_BYTES", "0"),
    ],
)
def test_impossible_cache_settings_are_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(
        SettingsError, match=variable.removeprefix("EVENTS_GATEWAY_").lower() + "|" + variable
    ):
        Settings.from_env({variable: value})
