"""Settings: one table reads the environment, and every check runs when a ``Settings`` is made, each
failing with one message style that names the environment variable and the value it got."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from events_gateway import _errors
from events_gateway.settings import (
    _POSITIVE_INTEGERS,
    _POSITIVE_NUMBERS,
    ENVIRONMENT,
    VARIABLES,
    Settings,
    SettingsError,
)
from events_gateway.upstream import UpstreamSettings

#: "<VARIABLE> must be <what>, got <value>": the one shape of every settings message.
ONE_STYLE = re.compile(r"^EVENTS_(API|GATEWAY)_[A-Z_]+ must be .+, got .+$")


# --- the table ------------------------------------------------------------------------------------------


def test_every_field_has_exactly_one_variable_in_field_order() -> None:
    assert [variable.field for variable in ENVIRONMENT] == [f.name for f in fields(Settings)]
    assert len({variable.name for variable in ENVIRONMENT}) == len(ENVIRONMENT)


def test_variables_are_named_after_their_fields() -> None:
    for variable in ENVIRONMENT:
        if variable.field in ("upstream_url", "api_key"):
            continue
        assert variable.name == f"EVENTS_GATEWAY_{variable.field.upper()}"
    assert VARIABLES["upstream_url"] == "EVENTS_API_URL"
    assert VARIABLES["api_key"] == "EVENTS_API_KEY"


def test_the_environment_is_read_and_cast_per_variable() -> None:
    settings = Settings.from_env(
        {
            "EVENTS_API_URL": "http://upstream.test/api/v1/",
            "EVENTS_API_KEY": "k-1",
            "EVENTS_GATEWAY_HOST": "0.0.0.0",
            "EVENTS_GATEWAY_PORT": "8123",
            "EVENTS_GATEWAY_UPSTREAM_TIMEOUT": "2.5",
            "EVENTS_GATEWAY_BATCHING": "per-parent",
            "EVENTS_GATEWAY_CORS_ORIGINS": " https://a.test , ,https://b.test",
            "EVENTS_GATEWAY_GRAPHIQL": "off",
            "EVENTS_GATEWAY_INTROSPECTION": "No",
            "EVENTS_GATEWAY_METRICS": "1",
            "EVENTS_GATEWAY_OTEL": "TRUE",
            "EVENTS_GATEWAY_GRAPHIQL_ASSETS": "/srv/assets",
            "EVENTS_GATEWAY_REQUEST_DEADLINE": "2.5",
            "EVENTS_GATEWAY_RETRY_MAX_ATTEMPTS": "4",
            "EVENTS_GATEWAY_BREAKER_FAILURE_THRESHOLD": "2",
            "EVENTS_GATEWAY_BREAKER_COOLDOWN": "0",
            "UNRELATED": "ignored",
        }
    )
    assert settings.upstream_url == "http://upstream.test/api/v1"  # without its trailing slash
    assert settings.api_key == "k-1"
    assert (settings.host, settings.port, settings.upstream_timeout) == ("0.0.0.0", 8123, 2.5)
    assert settings.batching == "per-parent"
    assert settings.cors_origins == ("https://a.test", "https://b.test")
    assert (settings.graphiql, settings.introspection, settings.metrics, settings.otel) == (
        False,
        False,
        True,
        True,
    )
    assert settings.graphiql_assets == Path("/srv/assets")
    assert (settings.request_deadline, settings.retry_max_attempts) == (2.5, 4)
    assert (settings.breaker_failure_threshold, settings.breaker_cooldown) == (2, 0.0)


def test_an_empty_url_or_key_counts_as_unset_and_an_empty_origin_list_turns_cors_off() -> None:
    settings = Settings.from_env(
        {"EVENTS_API_URL": "", "EVENTS_API_KEY": "", "EVENTS_GATEWAY_CORS_ORIGINS": ""}
    )
    assert (settings.upstream_url, settings.api_key, settings.cors_origins) == (None, None, ())


def test_nothing_set_is_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("EVENTS_GATEWAY_PORT", "eighty", "EVENTS_GATEWAY_PORT must be an integer, got 'eighty'"),
        ("EVENTS_GATEWAY_MAX_COST", "1.5", "EVENTS_GATEWAY_MAX_COST must be an integer, got '1.5'"),
        (
            "EVENTS_GATEWAY_UPSTREAM_TIMEOUT",
            "soon",
            "EVENTS_GATEWAY_UPSTREAM_TIMEOUT must be a number, got 'soon'",
        ),
        (
            "EVENTS_GATEWAY_METRICS",
            "maybe",
            "EVENTS_GATEWAY_METRICS must be true or false (or 1/0, yes/no, on/off), got 'maybe'",
        ),
    ],
)
def test_a_value_that_does_not_cast_names_its_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: raw})
    assert str(caught.value) == message
    assert ONE_STYLE.match(message)


# --- the checks -----------------------------------------------------------------------------------------


def _cases() -> list[tuple[str, object, str]]:
    cases: list[tuple[str, object, str]] = [
        (name, 0, f"{VARIABLES[name]} must be a positive integer, got 0") for name in _POSITIVE_INTEGERS
    ]
    cases += [
        (name, 0.0, f"{VARIABLES[name]} must be a positive number, got 0.0") for name in _POSITIVE_NUMBERS
    ]
    cases += [
        ("max_cost", -3, "EVENTS_GATEWAY_MAX_COST must be a positive integer, got -3"),
        (
            "default_first",
            0,
            "EVENTS_GATEWAY_DEFAULT_FIRST must be between 1 and EVENTS_GATEWAY_MAX_FIRST (1000), got 0",
        ),
        (
            "default_first",
            1001,
            "EVENTS_GATEWAY_DEFAULT_FIRST must be between 1 and EVENTS_GATEWAY_MAX_FIRST (1000), got 1001",
        ),
        ("batching", "bulk", "EVENTS_GATEWAY_BATCHING must be one of 'catalog', 'per-parent', got 'bulk'"),
        ("log_format", "xml", "EVENTS_GATEWAY_LOG_FORMAT must be one of 'json', 'text', got 'xml'"),
        (
            "log_level",
            "LOUD",
            "EVENTS_GATEWAY_LOG_LEVEL must be one of 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', "
            "got 'LOUD'",
        ),
        (
            "upstream_plan",
            "maybe",
            "EVENTS_GATEWAY_UPSTREAM_PLAN must be one of 'auto', 'on', 'off', got 'maybe'",
        ),
        (
            "breaker_cooldown",
            -1.0,
            "EVENTS_GATEWAY_BREAKER_COOLDOWN must be zero or a positive number, got -1.0",
        ),
    ]
    url_rule = "EVENTS_API_URL must be an http:// or https:// URL with a host and no query or fragment"
    cases += [
        ("upstream_url", url, f"{url_rule}, got {url!r}")
        for url in (
            "ftp://upstream.test/api/v1",
            "http://",
            "http://u.test/api/v1?x=1",
            "http://u.test/#f",
            "no url",
        )
    ]
    return cases


@pytest.mark.parametrize(("name", "value", "message"), _cases())
def test_every_check_fails_at_construction_naming_the_variable(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings(**{name: value})  # type: ignore[arg-type]  # the wrong values are the point
    assert str(caught.value) == message
    assert ONE_STYLE.match(message)
    with pytest.raises(SettingsError):  # and on every copy
        Settings().with_(**{name: value})


def test_max_cost_zero_fails_at_construction() -> None:
    with pytest.raises(SettingsError, match=r"^EVENTS_GATEWAY_MAX_COST must be a positive integer, got 0$"):
        Settings(max_cost=0)


def test_the_environment_meets_the_same_checks() -> None:
    with pytest.raises(SettingsError, match=r"^EVENTS_GATEWAY_MAX_COST must be a positive integer, got 0$"):
        Settings.from_env({"EVENTS_GATEWAY_MAX_COST": "0"})


def test_the_bounds_themselves_are_accepted() -> None:
    settings = Settings(default_first=1, max_first=1, breaker_cooldown=0.0, log_level="debug")
    assert (settings.default_first, settings.max_first, settings.breaker_cooldown) == (1, 1, 0.0)


def test_the_api_key_is_never_shown() -> None:
    settings = Settings(api_key="secret-key-123")
    assert "secret-key-123" not in repr(settings)


# --- where things live ----------------------------------------------------------------------------------


def test_settings_error_has_one_class_under_its_public_name() -> None:
    assert SettingsError is _errors.SettingsError
    assert issubclass(SettingsError, ValueError)


def test_the_upstream_package_imports_nothing_of_the_settings() -> None:
    code = "import sys, events_gateway.upstream; print('events_gateway.settings' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_upstream_settings_check_their_own_values_in_the_same_style() -> None:
    with pytest.raises(
        SettingsError, match=r"^base_url must be an http:// or https:// URL .*, got 'ftp://x'$"
    ):
        UpstreamSettings("ftp://x")
    with pytest.raises(SettingsError, match=r"^timeout must be a positive number, got 0$"):
        UpstreamSettings("http://upstream.test/api/v1", timeout=0)
