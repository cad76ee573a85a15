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
    area_manager_scopes: frozenset[tuple[str | None, str | None]] = field(default_factory=frozenset)
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


# --- groups and accounts ---
# A group is anything with `id`, `organisation` (code or None) and `areas` (département codes).


def _scope_covers(scopes: frozenset[tuple[str | None, str | None]], group: Any) -> bool:
    """An (organisation × département) scope covers the group; None means "any"."""
    areas = set(group.areas or [])
    return any(
        (org is None or org == group.organisation) and (area is None or area in areas)
        for org, area in scopes
    )


def manages_area_of(viewer: Viewer, group: Any) -> bool:
    """Area manager whose scope covers the group."""
    return _scope_covers(viewer.area_manager_scopes, group)


def observes_area_of(viewer: Viewer, group: Any) -> bool:
    return _scope_covers(viewer.observer_scopes, group)


def administers_area_of(viewer: Viewer, group: Any) -> bool:
    """Admin whose départements meet the group's."""
    return viewer.is_admin and bool(viewer.admin_areas & set(group.areas or []))


@route_rule
def can_list_my_groups(viewer: Viewer | None) -> bool:
    """Any authenticated account has a "Mes groupes" page (empty when in no group)."""
    return is_authenticated(viewer)


def can_see_group_members(viewer: Viewer | None, group: Any) -> bool:
    """Members, area managers and observers in scope, admins of its départements."""
    return is_authenticated(viewer) and (
        is_member_of(viewer, group.id)
        or manages_area_of(viewer, group)
        or observes_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


def can_add_member(viewer: Viewer | None, group: Any) -> bool:
    """Any member adds an existing account; observers only read."""
    return is_authenticated(viewer) and (
        is_member_of(viewer, group.id)
        or manages_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


def can_deactivate_member(viewer: Viewer | None, group: Any) -> bool:
    """Deactivating and reactivating a colleague: same people as adding one."""
    return can_add_member(viewer, group)


def can_create_accounts(viewer: Viewer | None, group: Any) -> bool:
    """Responsables of the group, area managers in scope, admins of its départements."""
    return is_authenticated(viewer) and (
        manages_group(viewer, group.id)
        or manages_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


def can_edit_member(viewer: Viewer | None, group: Any) -> bool:
    """Editing a member's row (name, qualité, roles): the group's responsables and above."""
    return can_create_accounts(viewer, group)


def can_edit_group_texts(viewer: Viewer | None, group: Any) -> bool:
    """Name, descriptions and BAL: the group's responsables and above."""
    return can_create_accounts(viewer, group)


def can_export_group_users(viewer: Viewer | None, group: Any) -> bool:
    """The users export lists the groups whose members the viewer may see."""
    return can_see_group_members(viewer, group)


def can_edit_group_structure(viewer: Viewer | None, group: Any) -> bool:
    """Organisation, départements, network, deletion: admins of the group's départements."""
    return is_authenticated(viewer) and administers_area_of(viewer, group)


def can_create_group_in(viewer: Viewer | None, areas: Any) -> bool:
    """An admin creates groups only within their own départements."""
    areas = set(areas or [])
    return (
        is_authenticated(viewer) and viewer.is_admin and bool(areas) and areas <= viewer.admin_areas
    )


def can_edit_user(viewer: Viewer | None, user_areas: Any) -> bool:
    """Admins edit users of groups in their départements (or users in no group yet)."""
    if not (is_authenticated(viewer) and viewer.is_admin):
        return False
    areas = set(user_areas or [])
    return not areas or bool(viewer.admin_areas & areas)


@route_rule
def can_manage_users(viewer: Viewer | None) -> bool:
    """The admin screens on groups and users."""
    return can_use_admin_screens(viewer)


@route_rule
def can_read_events(viewer: Viewer | None) -> bool:
    """The audit events log (ids only; admins see events of their départements' people)."""
    return can_use_admin_screens(viewer)


def visible_groups(viewer: Viewer, *, with_admin_areas: bool = True) -> Any:
    """Where-clause on Group: the groups whose members the viewer may see.

    "Mes groupes" leaves the admin départements out (an admin's own groups are enough
    there); loading a group by id keeps them, so an admin can open any group they administer.
    """
    from piccolo.columns.combination import WhereRaw

    from app.tables import Group

    clauses: list[Any] = []
    if viewer.group_ids:
        clauses.append(Group.id.is_in(list(viewer.group_ids)))
    for org, area in viewer.area_manager_scopes | viewer.observer_scopes:
        parts = []
        if org is not None:
            parts.append(Group.organisation == org)
        if area is not None:
            parts.append(Group.areas.any(area))
        if not parts:
            return WhereRaw("TRUE")
        clause = parts[0]
        for part in parts[1:]:
            clause = clause & part
        clauses.append(clause)
    if with_admin_areas and viewer.is_admin and viewer.admin_areas:
        clauses.append(WhereRaw('"app_group"."areas" && {}::varchar[]', sorted(viewer.admin_areas)))
    if not clauses:
        return WhereRaw("FALSE")
    where = clauses[0]
    for clause in clauses[1:]:
        where = where | clause
    return where


def administered_groups(viewer: Viewer) -> Any:
    """Where-clause on Group: the groups of the admin's départements (the admin screens)."""
    from piccolo.columns.combination import WhereRaw

    if not (viewer.is_admin and viewer.admin_areas):
        return WhereRaw("FALSE")
    return WhereRaw('"app_group"."areas" && {}::varchar[]', sorted(viewer.admin_areas))


def administered_users_sql(viewer: Viewer) -> tuple[str, list[Any]]:
    """SQL condition on `u` (app_user): users `can_edit_user` lets this admin edit."""
    if not (viewer.is_admin and viewer.admin_areas):
        return "FALSE", []
    return (
        "(NOT EXISTS (SELECT 1 FROM membership sm WHERE sm.user = u.id)"
        " OR EXISTS (SELECT 1 FROM membership sm JOIN app_group sg ON sg.id = sm.group"
        " WHERE sm.user = u.id AND sg.areas && {}::varchar[]))",
        [sorted(viewer.admin_areas)],
    )


# --- demandes ---------------------------------------------------------------------------
# Spec §3: content is visible only to the creator and to the people invited on the demande.
# Being in the creator's group opens nothing by itself; admins get an anonymised view of the
# demandes of their départements; experts read only while the demande is open.


@dataclass(frozen=True)
class ApplicationFacts:
    """What the demande rules need to know about one demande."""

    id: UUID
    creator_id: UUID
    creator_group_id: UUID | None
    area: str
    status: str
    # Everyone with a participation: the creator and the invited.
    participant_ids: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def is_open(self) -> bool:
        return self.status != "archived"


def is_creator(viewer: Viewer, application: ApplicationFacts) -> bool:
    return viewer.id == application.creator_id


def is_participant(viewer: Viewer, application: ApplicationFacts) -> bool:
    return is_creator(viewer, application) or viewer.id in application.participant_ids


def is_invited_on(viewer: Viewer, application: ApplicationFacts) -> bool:
    return not is_creator(viewer, application) and viewer.id in application.participant_ids


def is_in_creator_group(viewer: Viewer, application: ApplicationFacts) -> bool:
    return application.creator_group_id is not None and is_member_of(
        viewer, application.creator_group_id
    )


def administers_area(viewer: Viewer, area: str) -> bool:
    return viewer.is_admin and area in viewer.admin_areas


def can_read_application(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Content (usager, description, thread, files list): creator and invited people."""
    if not is_authenticated(viewer):
        return False
    if is_creator(viewer, application):
        return True
    if not is_invited_on(viewer, application):
        return False
    # An expert is brought in to unblock a demande, not to keep reading it afterwards.
    if viewer.is_expert and not application.is_open:
        return False
    return True


def can_read_application_anonymised(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Admins of the demande's département, when not personally on it: lengths, no content."""
    return (
        is_authenticated(viewer)
        and administers_area(viewer, application.area)
        and not can_read_application(viewer, application)
    )


def can_read_private_answers(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The "réservé aux instructeurs" discussion: invited instructeurs and experts."""
    return (
        can_read_application(viewer, application)
        and is_invited_on(viewer, application)
        and sees_private_answers(viewer)
    )


def can_read_answer(viewer: Viewer | None, application: ApplicationFacts, visibility: str) -> bool:
    """A thread entry: public ones for whoever reads the demande, private ones for instructeurs."""
    if visibility == "public":
        return can_read_application(viewer, application)
    return can_read_private_answers(viewer, application)


def can_download_file(
    viewer: Viewer | None, application: ApplicationFacts, visibility: str = "public"
) -> bool:
    """Creator, invited aidants and instructeurs; never experts or admins (spec §3)."""
    if not can_read_answer(viewer, application, visibility):
        return False
    if is_creator(viewer, application):
        return True
    return not (viewer.is_expert or viewer.is_admin)


def can_answer(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Whoever reads the content; once archived, only the creator (which reopens it)."""
    return can_read_application(viewer, application) and (
        application.is_open or is_creator(viewer, application)
    )


def can_use_instructor_options(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Quick replies, "traitée", "procédure standard": invited instructeurs."""
    return (
        can_answer(viewer, application)
        and is_invited_on(viewer, application)
        and viewer.is_instructor
    )


def can_post_private_answer(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Private answers ("réservé aux instructeurs"): invited instructeurs, and experts."""
    return can_answer(viewer, application) and can_read_private_answers(viewer, application)


def can_add_usager_fields(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Corrections to the usager box come from the creator, as a message."""
    return can_answer(viewer, application) and is_creator(viewer, application)


def can_invite(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Anyone who reads an open demande may bring colleagues or groups in."""
    return can_read_application(viewer, application) and application.is_open


def is_on_creator_side(viewer: Viewer, application: ApplicationFacts) -> bool:
    """The creator, or an invited colleague of the creator's group: the aidant's side."""
    return is_creator(viewer, application) or (
        is_invited_on(viewer, application) and is_in_creator_group(viewer, application)
    )


def _can_close(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    if not is_authenticated(viewer):
        return False
    return is_on_creator_side(viewer, application) or administers_area(viewer, application.area)


def can_archive(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The creator, colleagues of the creator's group who were invited, and admins."""
    return application.is_open and _can_close(viewer, application)


def can_reopen(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    return not application.is_open and _can_close(viewer, application)


def can_print_mandat(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The pre-filled mandat is the aidant's paper: the creator's side, who reads the demande."""
    return can_read_application(viewer, application) and is_on_creator_side(viewer, application)


def can_see_presence(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Who else has the demande open: only for those who read it (never the anonymised view)."""
    return can_read_application(viewer, application)


# Query scopes of demandes. Loading goes through participations (an index on the viewer), so
# a demande id outside the scope answers 404 and leaks nothing.


def visible_applications_condition(viewer: Viewer):
    """Piccolo where-clause: the demandes whose content the viewer may be shown (or anonymised)."""
    from app.tables import Application, Participation

    mine = Application.id.is_in(
        Participation.select(Participation.application).where(Participation.user == viewer.id)
    )
    if viewer.is_expert:
        # Experts keep their participation after archiving but lose the content.
        mine = mine & (Application.status != "archived") | (Application.creator == viewer.id)
    if viewer.is_admin and viewer.admin_areas:
        return mine | Application.area.is_in(sorted(viewer.admin_areas))
    return mine


def visible_applications_query(viewer: Viewer):
    """The demandes the viewer may open, as a Piccolo objects() query to refine."""
    from app.tables import Application

    return Application.objects().where(visible_applications_condition(viewer))


async def application_facts(application_id: UUID) -> ApplicationFacts | None:
    """The facts of one demande (one query), or None when it does not exist."""
    from app.tables import Application

    rows = await Application.raw(
        "SELECT a.id, a.creator, a.creator_group, a.area, a.status,"
        " COALESCE(array_agg(p.user) FILTER (WHERE p.user IS NOT NULL), ARRAY[]::uuid[])"
        " AS participants"
        " FROM application a LEFT JOIN participation p ON p.application = a.id"
        " WHERE a.id = {} GROUP BY a.id",
        application_id,
    )
    if not rows:
        return None
    row = rows[0]
    return ApplicationFacts(
        id=row["id"],
        creator_id=row["creator"],
        creator_group_id=row["creator_group"],
        area=row["area"],
        status=row["status"],
        participant_ids=frozenset(row["participants"]),
    )


async def load_application_for(
    viewer: Viewer, application_id: UUID, *, client_address: str = ""
) -> ApplicationFacts:
    """The facts of a demande the viewer may open (content or anonymised), else a 404.

    The refusal is written to the audit log (ids only) and looks exactly like a missing id.
    """
    from litestar.exceptions import NotFoundException

    from app.domain import audit

    facts = await application_facts(application_id)
    if facts is None or not (
        can_read_application(viewer, facts) or can_read_application_anonymised(viewer, facts)
    ):
        await audit.record(
            audit.Event.NOT_FOUND_IN_SCOPE,
            actor_id=viewer.id,
            application_id=application_id,
            client_address=client_address,
        )
        raise NotFoundException()
    return facts


# --- inbox ---


def sees_private_answers(viewer: Viewer) -> bool:
    """The role part of `can_read_private_answers`, for lists (inbox, search) whose query
    scope already holds the invitation: instructeurs and experts, never aidants (spec §3)."""
    return viewer.is_instructor or viewer.is_expert


# --- scopes of area managers and observers (issue 6) ---


def can_grant_scope(viewer: Viewer, area: str | None) -> bool:
    """Admins grant or remove scopes on their own départements; "all" is for the CLI."""
    return viewer.is_admin and area is not None and area in viewer.admin_areas
