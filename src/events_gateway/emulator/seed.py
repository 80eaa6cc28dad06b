"""Starting data for a workspace: a small, readable demo set, or a C×E×P grid for benchmarks.

Both are deterministic: ids derive from the workspace name and the object's path, and every object gets
its own ``created_at`` (in creation order), so lists order the same way on every run and machine.
Different workspaces get different ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from .model import CATEGORY, EVENT, EVENT_PROPERTY, derived_id, format_timestamp
from .store import NewIntegration, NewResource, Store

SEED_EPOCH: Final = datetime(2024, 1, 15, 9, 0, 0, tzinfo=UTC)

#: (name, type) of the demo integrations.
DEMO_INTEGRATIONS: Final = (("Segment", "segment"), ("Amplitude", "amplitude"))

# A property: (title, data type, required, enum values, description).
Prop = tuple[str, str, bool, str, str]
_PAGE: Final[Prop] = ("page_url", "string", True, "", "URL of the page the user was on.")
_SESSION: Final[Prop] = ("session_id", "string", True, "", "Analytics session identifier.")
_PLATFORM: Final[Prop] = ("platform", "enum", False, "web,ios,android", "Client platform.")

#: category → (integration index, [(event title, description, [properties])]).
DEMO_CATALOG: Final[dict[str, tuple[int, list[tuple[str, str, list[Prop]]]]]] = {
    "Landing Page": (
        0,
        [
            (
                "Landing Page Viewed",
                "A visitor opened the landing page.",
                [_PAGE, _SESSION, ("referrer", "string", False, "", "Referring URL.")],
            ),
            (
                "Hero CTA Clicked",
                "The main call to action was clicked.",
                [
                    _SESSION,
                    _PAGE,
                    ("button_text", "string", True, "", "Label of the button."),
                    ("position", "enum", False, "top,middle,bottom", "Where the button sits."),
                ],
            ),
            (
                "Newsletter Form Submitted",
                "The newsletter form was sent.",
                [
                    _PAGE,
                    ("email_domain", "string", False, "", "Domain of the address given."),
                    ("consent_given", "boolean", True, "", "Marketing consent ticked."),
                ],
            ),
        ],
    ),
    "Checkout": (
        0,
        [
            (
                "Checkout Started",
                "The cart moved to checkout.",
                [
                    _SESSION,
                    ("cart_value", "number", True, "", "Cart total in the store currency."),
                    ("item_count", "number", True, "", "Items in the cart."),
                ],
            ),
            (
                "Payment Info Submitted",
                "Payment details were sent.",
                [
                    _SESSION,
                    (
                        "payment_method",
                        "enum",
                        True,
                        "card,paypal,apple_pay,bank_transfer",
                        "Chosen payment method.",
                    ),
                    ("saved_card", "boolean", False, "", "A stored card was used."),
                ],
            ),
            (
                "Coupon Applied",
                "A coupon code was accepted.",
                [
                    _SESSION,
                    ("coupon_code", "string", True, "", "The code entered."),
                    ("discount", "number", True, "", "Discount granted."),
                ],
            ),
            (
                "Order Completed",
                "The order was placed.",
                [
                    _SESSION,
                    ("order_id", "string", True, "", "Order reference."),
                    ("revenue", "number", True, "", "Order revenue."),
                    ("currency", "enum", True, "USD,EUR,GBP", "Order currency."),
                ],
            ),
        ],
    ),
    "Onboarding": (
        1,
        [
            (
                "Signup Form Submitted",
                "A new account was requested.",
                [
                    _PLATFORM,
                    ("signup_method", "enum", True, "email,google,github", "How the user signed up."),
                    ("invited", "boolean", False, "", "The user came from an invitation."),
                ],
            ),
            (
                "Tour Step Viewed",
                "A product-tour step was shown.",
                [
                    _PLATFORM,
                    ("step", "number", True, "", "Step number, from 1."),
                    ("step_name", "string", False, "", "Name of the step."),
                ],
            ),
            (
                "Tour Skipped Clicked",
                "The user skipped the tour.",
                [_PLATFORM, ("step", "number", True, "", "Step at which the tour was skipped.")],
            ),
            (
                "Onboarding Completed",
                "Every onboarding step was done.",
                [_PLATFORM, ("duration_seconds", "number", False, "", "Time from signup to completion.")],
            ),
        ],
    ),
    "Search": (
        1,
        [
            (
                "Search Submitted",
                "A search query was run.",
                [
                    _SESSION,
                    ("query", "string", True, "", "Text searched for."),
                    ("result_count", "number", True, "", "Results returned."),
                ],
            ),
            (
                "Search Result Clicked",
                "A search result was opened.",
                [
                    _SESSION,
                    ("query", "string", True, "", "Text searched for."),
                    ("rank", "number", True, "", "Position of the result, from 1."),
                ],
            ),
            (
                "Search Filter Applied",
                "A filter narrowed the results.",
                [
                    _SESSION,
                    ("filter_name", "enum", True, "category,price,brand,rating", "Filter used."),
                    ("filter_value", "string", True, "", "Value chosen."),
                ],
            ),
        ],
    ),
    "Account": (
        0,
        [
            (
                "Login Submitted",
                "The login form was sent.",
                [
                    _PLATFORM,
                    ("success", "boolean", True, "", "The login worked."),
                    ("method", "enum", True, "password,sso,magic_link", "Login method."),
                ],
            ),
            (
                "Profile Viewed",
                "The user opened their profile.",
                [_PLATFORM, ("section", "enum", False, "overview,settings,billing", "Profile tab opened.")],
            ),
            (
                "Password Reset Clicked",
                "A password reset was asked for.",
                [_PLATFORM, ("from_login_page", "boolean", False, "", "Asked from the login page.")],
            ),
            (
                "Account Deleted",
                "The user closed their account.",
                [
                    ("reason", "enum", False, "price,features,support,other", "Stated reason."),
                    ("tenure_days", "number", False, "", "Days since signup."),
                ],
            ),
        ],
    ),
}

_SCALE_TYPES: Final = ("string", "number", "boolean", "enum")


@dataclass(slots=True)
class _Stamps:
    """Distinct, increasing creation times for seeded objects."""

    step: timedelta
    index: int = 0

    def next(self) -> str:
        self.index += 1
        return format_timestamp(
            SEED_EPOCH + self.step * self.index + timedelta(microseconds=self.index * 7 % 1000)
        )


def _usage(object_id: str) -> int:
    """A stable, spread-out ``external_usage`` so the catalog's default sort is meaningful."""
    return int(object_id[:8], 16) % 5000


def _integrations(workspace: str, stamps: _Stamps) -> list[NewIntegration]:
    return [
        NewIntegration(
            id=derived_id(workspace, "integration", name), name=name, type=type_, created_at=stamps.next()
        )
        for name, type_ in DEMO_INTEGRATIONS
    ]


def _resource(
    workspace: str,
    stamps: _Stamps,
    kind: str,
    path: tuple[str, ...],
    parent: str | None,
    integration: str,
    data: dict[str, object],
) -> NewResource:
    object_id = derived_id(workspace, kind, *path)
    return NewResource(
        id=object_id,
        entity_type=kind,
        title=path[-1],
        parent_id=parent,
        integration_id=integration,
        external_usage=_usage(object_id),
        created_at=stamps.next(),
        data=data,
    )


def _demo(workspace: str, stamps: _Stamps, integrations: list[NewIntegration]) -> Iterator[NewResource]:
    for category, (integration_index, events) in DEMO_CATALOG.items():
        integration = integrations[integration_index].id
        cat = _resource(
            workspace,
            stamps,
            CATEGORY,
            (category,),
            None,
            integration,
            {"description": f"{category} events."},
        )
        yield cat
        for title, description, props in events:
            event = _resource(
                workspace,
                stamps,
                EVENT,
                (category, title),
                cat.id,
                integration,
                {"description": description, "verified": len(props) > 2, "published": True},
            )
            yield event
            for name, type_, required, enum_values, prop_description in props:
                yield _resource(
                    workspace,
                    stamps,
                    EVENT_PROPERTY,
                    (category, title, name),
                    event.id,
                    integration,
                    {
                        "description": prop_description,
                        "type": type_,
                        "is_required": required,
                        "enum_values": enum_values,
                        "pii": name in ("email_domain", "query"),
                    },
                )


def _scale(
    workspace: str, stamps: _Stamps, integrations: list[NewIntegration], scale: tuple[int, int, int]
) -> Iterator[NewResource]:
    categories, events, properties = scale
    for c in range(1, categories + 1):
        integration = integrations[c % len(integrations)].id
        cat_title = f"Category {c:04d}"
        cat = _resource(workspace, stamps, CATEGORY, (cat_title,), None, integration, {})
        yield cat
        for e in range(1, events + 1):
            event_title = f"Event {c:04d}.{e:04d}"
            event = _resource(workspace, stamps, EVENT, (cat_title, event_title), cat.id, integration, {})
            yield event
            for p in range(1, properties + 1):
                type_ = _SCALE_TYPES[p % len(_SCALE_TYPES)]
                yield _resource(
                    workspace,
                    stamps,
                    EVENT_PROPERTY,
                    (cat_title, event_title, f"property_{p:04d}"),
                    event.id,
                    integration,
                    {
                        "type": type_,
                        "is_required": p % 3 == 0,
                        "enum_values": "a,b,c" if type_ == "enum" else "",
                    },
                )


def seed_workspace(store: Store, workspace: str, kind: str, scale: tuple[int, int, int]) -> bool:
    """Put starting data into ``workspace`` if it has none yet; True when something was added."""
    if kind == "none" or not store.workspace_is_empty(workspace):
        return False
    step = timedelta(seconds=37) if kind == "demo" else timedelta(milliseconds=10)
    stamps = _Stamps(step=step)
    integrations = _integrations(workspace, stamps)
    resources = (
        _demo(workspace, stamps, integrations)
        if kind == "demo"
        else _scale(workspace, stamps, integrations, scale)
    )
    store.seed(workspace, integrations, resources)
    return True
