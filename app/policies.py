"""Every authorization rule of Administration+, in one place.

Facts about the acting user are gathered once per request into a `Viewer`; rules are pure,
synchronous predicates over those facts (and the rows they concern). Routes declare the rule
they enforce with `policy(rule)` or sit in the public list with `public()`; a test walks the
app and fails on any route that does neither, and another fails when a rule here is missing
from `docs/authorization.md`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Viewer:
    """What the rules need to know about the person making the request."""

    id: UUID
    is_helper: bool = False
    is_instructor: bool = False
    is_expert: bool = False
    is_admin: bool = False
    is_collective: bool = False
    is_disabled: bool = False
    has_accepted_cgu: bool = True
    admin_areas: frozenset[str] = field(default_factory=frozenset)
    group_ids: frozenset[UUID] = field(default_factory=frozenset)
    managed_group_ids: frozenset[UUID] = field(default_factory=frozenset)
    # (organisation code or None, area code or None) pairs.
    area_manager_scopes: frozenset[tuple[str | None, str | None]] = field(
        default_factory=frozenset
    )
    observer_scopes: frozenset[tuple[str | None, str | None]] = field(default_factory=frozenset)

    @property
    def is_group_manager(self) -> bool:
        return bool(self.managed_group_ids)

    @property
    def is_area_manager(self) -> bool:
        return bool(self.area_manager_scopes)

    @property
    def is_observer(self) -> bool:
        return bool(self.observer_scopes)


# --- facts ------------------------------------------------------------------------------


def is_member_of(viewer: Viewer, group_id: UUID) -> bool:
    return group_id in viewer.group_ids


def manages_group(viewer: Viewer, group_id: UUID) -> bool:
    return group_id in viewer.managed_group_ids


def is_active(viewer: Viewer | None) -> bool:
    return viewer is not None and not viewer.is_disabled


# --- the route mechanism ----------------------------------------------------------------

Rule = Callable[..., bool]

#: Route-level rules (on the viewer alone), by name; the app-wide guard looks them up here.
ROUTE_RULES: dict[str, Rule] = {}


def route_rule(rule: Rule) -> Rule:
    """Mark a rule on the viewer alone as usable in `policy(...)` on a route."""
    ROUTE_RULES[rule.__name__] = rule
    return rule


# --- rules on the user alone (checked by the route guard) ------------------------------



@route_rule
def is_authenticated(viewer: Viewer | None) -> bool:
    """Any active account, once the CGU are accepted."""
    return is_active(viewer) and viewer.has_accepted_cgu


@route_rule
def can_accept_cgu(viewer: Viewer | None) -> bool:
    """Any active account may read and accept the CGU (before everything else)."""
    return is_active(viewer)


@route_rule
def can_edit_own_profile(viewer: Viewer | None) -> bool:
    return is_authenticated(viewer)


@route_rule
def can_log_out(viewer: Viewer | None) -> bool:
    """Logging out works for anyone with a session, even mid-CGU."""
    return is_active(viewer)


@route_rule
def can_create_application(viewer: Viewer | None) -> bool:
    """Only aidants create demandes (instructeurs and responsables when also aidants)."""
    return is_authenticated(viewer) and viewer.is_helper


@route_rule
def can_use_admin_screens(viewer: Viewer | None) -> bool:
    return is_authenticated(viewer) and viewer.is_admin


def policy(rule: Rule) -> dict[str, Any]:
    """Route `opt` declaring the rule the route enforces on the viewer."""
    if rule.__name__ not in ROUTE_RULES:
        raise ValueError(f"{rule.__name__} is not a route rule of app.policies")
    return {"policy": rule.__name__}


def public() -> dict[str, Any]:
    """Route `opt` for pages anyone may see, logged in or not."""
    return {"public": True}


def all_rule_names() -> list[str]:
    """Every named rule of this module, for the documentation test."""
    return sorted(
        name
        for name, value in globals().items()
        if callable(value) and (name.startswith("can_") or name == "is_authenticated")
    )


# --- inbox ---


def can_read_private_answers(viewer: Viewer) -> bool:
    """Instructor-only messages: instructeurs and experts, never aidants (spec §3)."""
    return viewer.is_instructor or viewer.is_expert
