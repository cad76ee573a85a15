"""Every authorization rule of Administration+, in one place.

Facts about the acting user are gathered once per request into a `Viewer`; rules are pure,
synchronous predicates over those facts (and the rows they concern). Routes declare the rule
they enforce with `policy(rule)` or sit in the public list with `public()`; a test walks the
app and fails on any route that does neither, and another fails when a rule here is missing
from `docs/authorization.md`.

Long on purpose: every rule, its facts and the query scopes that mirror it in SQL stay in
this one module, so that a reader checks who may do what in one place (the issue that split
the other modules by resource kept this one whole). The SQL mirrors are hand-written where a
Piccolo query would lose the measured plan (docs/database.md).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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


def policy(rule: Rule, **objects: Any) -> dict[str, Any]:
    """Route `opt` declaring the rule the route enforces, and the objects it is about.

    `policy(can_edit_member_row, group=GroupById(), member=MemberOf())`: the app guard loads
    each object through its scope, in order (404 + audit outside it), then calls
    `rule(viewer, group, member)` (403 + audit when it answers no); the handler reads the
    loaded objects with `app.auth.loaded(request, name)`.
    """
    if ROUTE_RULES.get(rule.__name__) is not rule:
        raise ValueError(f"{rule.__name__} is not a route rule of app.policies")
    arity = len(inspect.signature(rule).parameters)
    if arity != 1 + len(objects):
        raise ValueError(f"{rule.__name__} takes {arity - 1} object(s), {len(objects)} declared")
    opt: dict[str, Any] = {"policy": rule.__name__}
    if objects:
        opt["objects"] = objects
    return opt


def public() -> dict[str, Any]:
    """Route `opt` for pages anyone may see, logged in or not."""
    return {"public": True}


def all_rule_names() -> list[str]:
    """Every named rule of this module, for the documentation test."""
    helpers = ("governs_account", "administers_account", "member_exit", "editable_member_fields")
    return sorted(
        name
        for name, value in globals().items()
        if callable(value)
        and (name.startswith("can_") or name in ("is_authenticated", "is_last_manager", *helpers))
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


@route_rule
def can_see_group_members(viewer: Viewer | None, group: Any) -> bool:
    """Members, area managers and observers in scope, admins of its départements."""
    return is_authenticated(viewer) and (
        is_member_of(viewer, group.id)
        or manages_area_of(viewer, group)
        or observes_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


@route_rule
def can_add_member(viewer: Viewer | None, group: Any) -> bool:
    """Any member adds an existing account; observers only read."""
    return is_authenticated(viewer) and (
        is_member_of(viewer, group.id)
        or manages_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


def can_deactivate_member(viewer: Viewer | None, group: Any) -> bool:
    """Who may take people out of the group at all; `member_exit` says what, per person."""
    return can_add_member(viewer, group)


@route_rule
def can_create_accounts(viewer: Viewer | None, group: Any) -> bool:
    """Responsables of the group, area managers in scope, admins of its départements."""
    return is_authenticated(viewer) and (
        manages_group(viewer, group.id)
        or manages_area_of(viewer, group)
        or administers_area_of(viewer, group)
    )


def can_edit_member(viewer: Viewer | None, group: Any) -> bool:
    """Who may open members' rows for editing; `editable_member_fields` says which fields."""
    return can_create_accounts(viewer, group)


@route_rule
def can_edit_group_texts(viewer: Viewer | None, group: Any) -> bool:
    """Name, descriptions and BAL: the group's responsables and above."""
    return can_create_accounts(viewer, group)


def can_export_group_users(viewer: Viewer | None, group: Any) -> bool:
    """The users export (spec §5): the group's responsables and above, not every member."""
    return can_create_accounts(viewer, group)


@route_rule
def can_edit_group_structure(viewer: Viewer | None, group: Any) -> bool:
    """Organisation, départements, network, deletion: admins of the group's départements."""
    return is_authenticated(viewer) and administers_area_of(viewer, group)


def can_create_group_in(viewer: Viewer | None, areas: Any) -> bool:
    """An admin creates groups (screen or import) only within their own départements."""
    areas = set(areas or [])
    return (
        is_authenticated(viewer) and viewer.is_admin and bool(areas) and areas <= viewer.admin_areas
    )


def can_set_group_areas(viewer: Viewer | None, group: Any, areas: Any) -> bool:
    """An admin keeps others' départements on a shared group, never adds them, and the group
    stays within at least one of theirs."""
    areas = set(areas or [])
    added = areas - set(group.areas or [])
    return (
        can_edit_group_structure(viewer, group)
        and added <= viewer.admin_areas
        and bool(areas & viewer.admin_areas)
    )


@route_rule
def can_manage_users(viewer: Viewer | None) -> bool:
    """The admin screens on groups and users."""
    return can_use_admin_screens(viewer)


@route_rule
def can_read_events(viewer: Viewer | None) -> bool:
    """The audit events log (ids only; admins see events of their départements' people)."""
    return can_use_admin_screens(viewer)


# --- accounts: who governs whom (issue 9, docs/decisions/2026-12-01-account-governance.md) --
# An account's identity (name, e-mail), roles and activation belong to whoever governs ALL
# its groups, never to any one of them. A group governs the accounts created in it; adding an
# existing account by its e-mail only hosts it (`MembershipFacts.governs` is False), so it
# gives no power over it. Accounts with a scope or the admin/expert flag are never governed
# from a group screen; admin and expert accounts are changed with the CLI only.


@dataclass(frozen=True)
class GroupFacts:
    id: UUID
    organisation: str | None = None
    areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class MembershipFacts:
    group: GroupFacts
    is_manager: bool = False
    # The group governs the account (created in it, or put there by an admin governing it).
    governs: bool = True
    # The account is the group's only active responsable.
    sole_manager: bool = False


@dataclass(frozen=True)
class AccountFacts:
    """What the account rules need to know about the account acted upon."""

    id: UUID
    is_admin: bool = False
    is_expert: bool = False
    is_disabled: bool = False
    memberships: tuple[MembershipFacts, ...] = ()
    # The départements of the account's scopes; None for a scope on every département.
    scope_areas: tuple[str | None, ...] = ()
    # Logged in, created or joined a demande, or answered (only loaded for the admin page).
    has_been_used: bool = True

    @property
    def is_staff(self) -> bool:
        """Admins, experts, area managers and observers: not a group's to govern."""
        return self.is_admin or self.is_expert or bool(self.scope_areas)

    def membership_in(self, group_id: UUID) -> MembershipFacts | None:
        return next((m for m in self.memberships if m.group.id == group_id), None)

    @property
    def areas(self) -> frozenset[str] | None:
        """The account's départements (groups' and scopes'); None when a scope covers all."""
        if any(area is None for area in self.scope_areas):
            return None
        found = {area for m in self.memberships for area in m.group.areas}
        return frozenset(found | set(self.scope_areas))

    @property
    def is_anchored(self) -> bool:
        """Something governs it: a group it was created in, or a scope an admin granted."""
        return any(m.governs for m in self.memberships) or bool(self.scope_areas)


def administers_account(viewer: Viewer | None, account: AccountFacts) -> bool:
    """The admin rule: every département of the account is the admin's; never an admin or
    expert account (CLI only), never an account that nothing anchors (CLI only)."""
    if not (is_authenticated(viewer) and viewer.is_admin) or account.id == viewer.id:
        return False
    if account.is_admin or account.is_expert or not account.is_anchored:
        return False
    areas = account.areas
    return bool(areas) and areas <= viewer.admin_areas


def _acts_for_group(viewer: Viewer, group: Any, *, as_responsable: bool) -> bool:
    # Admins are left out on purpose: their power over accounts is `administers_account`,
    # by départements, not by overlapping one group.
    if manages_area_of(viewer, group):
        return True
    return manages_group(viewer, group.id) if as_responsable else is_member_of(viewer, group.id)


def governs_account(viewer: Viewer | None, account: AccountFacts, *, as_responsable: bool) -> bool:
    """The viewer governs the account: as its admin, or from the group side when they act for
    every group of the account (as member, or as responsable), at least one of those governs
    it, and it is nobody's staff account."""
    if not is_authenticated(viewer) or account.id == viewer.id:
        return False
    if administers_account(viewer, account):
        return True
    if account.is_staff or not any(m.governs for m in account.memberships):
        return False
    return all(
        _acts_for_group(viewer, m.group, as_responsable=as_responsable) for m in account.memberships
    )


def can_disable_account(viewer: Viewer | None, account: AccountFacts) -> bool:
    """Disable or reactivate the account (everywhere): whoever governs it, members included."""
    return governs_account(viewer, account, as_responsable=False)


def can_edit_account(viewer: Viewer | None, account: AccountFacts) -> bool:
    """Name, qualité, phone, instructeur, compte partagé: whoever governs it as responsable."""
    return governs_account(viewer, account, as_responsable=True)


@route_rule
def can_edit_user(viewer: Viewer | None, account: AccountFacts) -> bool:
    """The admin user page (e-mail, roles, activation, groups, scopes): `administers_account`."""
    return administers_account(viewer, account)


@route_rule
def can_delete_user(viewer: Viewer | None, account: AccountFacts) -> bool:
    """Deleting an account that never served; a used one is disabled instead."""
    return can_edit_user(viewer, account) and not account.has_been_used


def _group_id(group: Any) -> UUID:
    return group["id"] if isinstance(group, dict) else group.id


@route_rule
def can_remove_user_from_group(viewer: Viewer | None, account: AccountFacts, group: Any) -> bool:
    """Admin page: a group of an account they administer, as long as something still
    governs the account afterwards (else it would be nobody's: disable it instead)."""
    gid = _group_id(group)
    if not can_edit_user(viewer, account) or account.membership_in(gid) is None:
        return False
    return bool(account.scope_areas) or any(
        m.governs for m in account.memberships if m.group.id != gid
    )


def is_last_manager(account: AccountFacts, group_id: UUID) -> bool:
    """The group's only active responsable: never removed, disabled or stripped of the role."""
    membership = account.membership_in(group_id)
    return membership is not None and membership.sole_manager


def member_exit(viewer: Viewer | None, group: Any, account: AccountFacts) -> str | None:
    """What "Désactiver / Retirer du groupe" does on a group screen: "disable" (the account,
    everywhere), "remove" (from this group only) or None (no button, POST refused)."""
    membership = account.membership_in(group.id)
    if membership is None or not can_deactivate_member(viewer, group) or account.id == viewer.id:
        return None
    if len(account.memberships) == 1 and can_disable_account(viewer, account):
        return "disable"
    if account.is_staff or not membership.governs:
        return "remove"
    # Leaving its last governing group would make the account nobody's.
    others = [m for m in account.memberships if m is not membership]
    return "remove" if any(m.governs for m in others) else None


@route_rule
def can_exit_member(viewer: Viewer | None, group: Any, account: AccountFacts) -> bool:
    return member_exit(viewer, group, account) is not None


@route_rule
def can_reactivate_member(viewer: Viewer | None, group: Any, account: AccountFacts) -> bool:
    """A disabled member comes back through a group of theirs, by whoever may disable them."""
    return (
        can_see_group_members(viewer, group)
        and account.membership_in(group.id) is not None
        and can_disable_account(viewer, account)
    )


ACCOUNT_FIELDS = frozenset(
    {"first_name", "last_name", "qualite", "phone", "is_instructor", "is_collective"}
)
MEMBER_ROW_FIELDS = ACCOUNT_FIELDS | {"is_manager"}


def editable_member_fields(
    viewer: Viewer | None, group: Any, account: AccountFacts
) -> frozenset[str]:
    """Fields of a member's row the viewer may change: "is_manager" (this group's role) for
    the group's responsables; the account's fields too when they govern the account. Never
    one's own row (one's identity is on the profile page, one's roles are others' to give),
    never an admin or expert account."""
    if not can_edit_member(viewer, group) or account.id == viewer.id:
        return frozenset()
    if account.membership_in(group.id) is None or account.is_admin or account.is_expert:
        # Admin and expert accounts change with the CLI only, down to their group roles.
        return frozenset()
    if can_edit_account(viewer, account):
        return MEMBER_ROW_FIELDS
    return frozenset({"is_manager"})


@route_rule
def can_see_member(viewer: Viewer | None, group: Any, account: AccountFacts) -> bool:
    return can_see_group_members(viewer, group) and account.membership_in(group.id) is not None


@route_rule
def can_edit_member_row(viewer: Viewer | None, group: Any, account: AccountFacts) -> bool:
    return bool(editable_member_fields(viewer, group, account))


# --- query scopes of groups and accounts ---------------------------------------------------


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


# The accounts with a group or a scope in some départements: the candidates, found from the
# groups' side (an index on membership.group), so the work grows with the admin's accounts.
_PEOPLE_OF_AREAS_SQL = """"app_user"."id" IN (
  SELECT m."user" FROM membership m
  WHERE m."group" = ANY(ARRAY(SELECT g.id FROM app_group g WHERE g.areas && {}::varchar[]))
  UNION SELECT s."user" FROM manager_scope s WHERE s.area = ANY({}::varchar[]))"""

# `administers_account` as SQL on "app_user", for lists; a test checks both agree. Static
# text with parameters only: Piccolo has no UNION inside IN, and the plan from the candidates
# is what keeps the admin list at 197 ms instead of 785 ms (bench/RESULTS-accounts.md).
_ADMINISTERED_USERS_SQL = (
    _PEOPLE_OF_AREAS_SQL
    + """
AND NOT "app_user"."is_admin" AND NOT "app_user"."is_expert" AND "app_user"."id" <> {}
AND (EXISTS (SELECT 1 FROM membership m WHERE m."user" = "app_user"."id" AND m.governs_account)
  OR EXISTS (SELECT 1 FROM manager_scope s WHERE s."user" = "app_user"."id"))
AND NOT EXISTS (SELECT 1 FROM membership m JOIN app_group g ON g.id = m."group"
  WHERE m."user" = "app_user"."id" AND NOT g.areas <@ {}::varchar[])
AND NOT EXISTS (SELECT 1 FROM manager_scope s WHERE s."user" = "app_user"."id"
  AND (s.area IS NULL OR NOT s.area = ANY({}::varchar[])))
"""
)


def administered_users(viewer: Viewer) -> Any:
    """Where-clause on User: the accounts `administers_account` lets this admin change."""
    from piccolo.columns.combination import WhereRaw

    if not (is_authenticated(viewer) and viewer.is_admin and viewer.admin_areas):
        return WhereRaw("FALSE")
    areas = sorted(viewer.admin_areas)
    return WhereRaw(_ADMINISTERED_USERS_SQL, areas, areas, viewer.id, areas, areas)


def people_of_admin_areas(viewer: Viewer) -> Any:
    """Where-clause on User: accounts with a group or a scope in the admin's départements
    (whose events the admin reads; reading is wider than changing)."""
    from piccolo.columns.combination import WhereRaw

    if not (viewer.is_admin and viewer.admin_areas):
        return WhereRaw("FALSE")
    areas = sorted(viewer.admin_areas)
    return WhereRaw(_PEOPLE_OF_AREAS_SQL, areas, areas)


_ACCOUNT_FACTS_SQL = """
SELECT u.id, u.is_admin, u.is_expert, u.disabled_at IS NOT NULL AS is_disabled,
  COALESCE((SELECT json_agg(json_build_object(
      'group', g.id, 'organisation', g.organisation, 'areas', g.areas,
      'is_manager', m.is_manager, 'governs', m.governs_account,
      'sole_manager', m.is_manager AND u.disabled_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM membership o JOIN app_user ou ON ou.id = o."user"
        WHERE o."group" = m."group" AND o.is_manager AND o."user" <> u.id
        AND ou.disabled_at IS NULL)))
    FROM membership m JOIN app_group g ON g.id = m."group" WHERE m."user" = u.id), '[]')
    AS memberships,
  ARRAY(SELECT s.area FROM manager_scope s WHERE s."user" = u.id) AS scope_areas,
  {used} AS has_been_used
FROM app_user u WHERE u.id = ANY({{}}::uuid[])
"""
_USED_SQL = """(u.first_login_at IS NOT NULL OR u.last_seen_at IS NOT NULL
  OR EXISTS (SELECT 1 FROM application a WHERE a.creator = u.id)
  OR EXISTS (SELECT 1 FROM participation p WHERE p."user" = u.id)
  OR EXISTS (SELECT 1 FROM answer r WHERE r.author = u.id))"""


async def account_facts(
    user_ids: list[UUID], *, with_usage: bool = False
) -> dict[UUID, AccountFacts]:
    """The facts of several accounts, in one query."""
    from app.tables import User

    if not user_ids:
        return {}
    sql = _ACCOUNT_FACTS_SQL.format(used=_USED_SQL if with_usage else "TRUE")
    rows = await User.raw(sql, list(user_ids))
    facts = {}
    for row in rows:
        raw = row["memberships"]
        memberships = json.loads(raw) if isinstance(raw, str) else raw
        facts[row["id"]] = AccountFacts(
            id=row["id"],
            is_admin=row["is_admin"],
            is_expert=row["is_expert"],
            is_disabled=row["is_disabled"],
            memberships=tuple(
                MembershipFacts(
                    group=GroupFacts(UUID(m["group"]), m["organisation"], tuple(m["areas"] or ())),
                    is_manager=m["is_manager"],
                    governs=m["governs"],
                    sole_manager=m["sole_manager"],
                )
                for m in memberships
            ),
            scope_areas=tuple(row["scope_areas"]),
            has_been_used=row["has_been_used"],
        )
    return facts


# --- objects a route declares (loaded by the app guard through a scope) -----------------------


@dataclass(frozen=True)
class GroupById:
    """A group through `visible_groups` (the group pages)."""

    param: str = "group_id"
    audit_key = "group_id"

    async def load(self, viewer: Viewer, params: dict, loaded: dict) -> Any:
        from app.tables import Group

        where = (Group.id == params[self.param]) & visible_groups(viewer)
        return await Group.objects().where(where).first()


@dataclass(frozen=True)
class AdministeredGroupById:
    """A group through `administered_groups` (the admin screens)."""

    param: str = "group_id"
    audit_key = "group_id"

    async def load(self, viewer: Viewer, params: dict, loaded: dict) -> Any:
        from app.tables import Group

        where = (Group.id == params[self.param]) & administered_groups(viewer)
        return await Group.objects().where(where).first()


@dataclass(frozen=True)
class MemberOf:
    """An account through its membership of the group loaded before it (`group`)."""

    param: str = "user_id"
    group: str = "group"
    audit_key = "user_id"

    async def load(self, viewer: Viewer, params: dict, loaded: dict) -> AccountFacts | None:
        account = (await account_facts([params[self.param]])).get(params[self.param])
        if account is None or account.membership_in(loaded[self.group].id) is None:
            return None
        return account


@dataclass(frozen=True)
class AdministeredAccountById:
    """An account the admin administers (`administers_account`, as `administered_users`)."""

    param: str = "user_id"
    # Whether it ever served (`can_delete_user`): costly, for the routes that show or delete.
    with_usage: bool = False
    audit_key = "user_id"

    async def load(self, viewer: Viewer, params: dict, loaded: dict) -> AccountFacts | None:
        user_id = params[self.param]
        account = (await account_facts([user_id], with_usage=self.with_usage)).get(user_id)
        return account if account is not None and administers_account(viewer, account) else None


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
    # Set by the retention job: only metadata is left, for good.
    personal_data_wiped_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "archived"

    @property
    def is_wiped(self) -> bool:
        return self.personal_data_wiped_at is not None


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
    """Content (usager, description, thread, files list): creator and invited people.

    Mirrored for each participation by SQL `aplus_reads_content` into
    `participation.reads_content` (migration aplus_2026_12_01t23_21_00_000000), which the
    inbox reads: change both together.
    """
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
    """The "réservé aux instructeurs" discussion: invited instructeurs and experts.

    A fact of this demande, never of the roles alone: a creator who is also instructeur does
    not read it. Mirrored for each participation by SQL `aplus_reads_private` into
    `participation.reads_private` (migration aplus_2026_12_01t23_21_00_000000), which the
    inbox's search, message and unread counts read: change both together.
    """
    return (
        can_read_application(viewer, application)
        and is_invited_on(viewer, application)
        and (viewer.is_instructor or viewer.is_expert)
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


@route_rule
def can_answer(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Whoever reads the content; once archived, only the creator (which reopens it), and
    nobody once its personal data is wiped (there is no demande left to answer)."""
    return (
        can_read_application(viewer, application)
        and not application.is_wiped
        and (application.is_open or is_creator(viewer, application))
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


@route_rule
def can_invite(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Anyone who reads an open demande may bring colleagues or groups in."""
    return can_read_application(viewer, application) and application.is_open


def can_invite_experts(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """CGU 1.3.4: any member of the community on an open demande may call the experts in."""
    return can_invite(viewer, application)


def is_on_creator_side(viewer: Viewer, application: ApplicationFacts) -> bool:
    """The creator, or an invited colleague of the creator's group: the aidant's side."""
    return is_creator(viewer, application) or (
        is_invited_on(viewer, application) and is_in_creator_group(viewer, application)
    )


def _can_close(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    if not is_authenticated(viewer):
        return False
    return is_on_creator_side(viewer, application) or administers_area(viewer, application.area)


@route_rule
def can_archive(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The creator, colleagues of the creator's group who were invited, and admins."""
    return application.is_open and _can_close(viewer, application)


@route_rule
def can_reopen(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """Archived and not wiped: a wiped demande has nothing left to work on."""
    return not application.is_open and not application.is_wiped and _can_close(viewer, application)


@route_rule
def can_ask_to_reopen(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """`can_reopen` before the wipe test: the reopen route then explains a wiped demande."""
    return not application.is_open and _can_close(viewer, application)


@route_rule
def can_print_mandat(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The pre-filled mandat is the aidant's paper: the creator's side, who reads the demande."""
    return can_read_application(viewer, application) and is_on_creator_side(viewer, application)


@route_rule
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
    return (await applications_facts([application_id])).get(application_id)


async def applications_facts(application_ids: list[UUID]) -> dict[UUID, ApplicationFacts]:
    """The facts of several demandes in one query (missing ids are left out)."""
    from app.tables import Application

    if not application_ids:
        return {}
    rows = await Application.raw(
        "SELECT a.id, a.creator, a.creator_group, a.area, a.status, a.personal_data_wiped_at,"
        " COALESCE(array_agg(p.user) FILTER (WHERE p.user IS NOT NULL), ARRAY[]::uuid[])"
        " AS participants"
        " FROM application a LEFT JOIN participation p ON p.application = a.id"
        " WHERE a.id = ANY({}) GROUP BY a.id",
        list(application_ids),
    )
    return {
        row["id"]: ApplicationFacts(
            id=row["id"],
            creator_id=row["creator"],
            creator_group_id=row["creator_group"],
            area=row["area"],
            status=row["status"],
            participant_ids=frozenset(row["participants"]),
            personal_data_wiped_at=row["personal_data_wiped_at"],
        )
        for row in rows
    }


@route_rule
def can_open_application(viewer: Viewer | None, application: ApplicationFacts) -> bool:
    """The demande page: its content, or its anonymised view for admins of its département."""
    return can_read_application(viewer, application) or can_read_application_anonymised(
        viewer, application
    )


@dataclass(frozen=True)
class ApplicationById:
    """A demande through its participations (`can_open_application`), like
    `load_application_for`."""

    param: str = "application_id"
    audit_key = "application_id"

    async def load(self, viewer: Viewer, params: dict, loaded: dict) -> ApplicationFacts | None:
        facts = await application_facts(params[self.param])
        return facts if facts is not None and can_open_application(viewer, facts) else None


async def load_application_for(
    viewer: Viewer, application_id: UUID, *, client_address: str = ""
) -> ApplicationFacts:
    """The facts of a demande the viewer may open (content or anonymised), else a 404.

    The refusal is written to the audit log (ids only) and looks exactly like a missing id.
    """
    from litestar.exceptions import NotFoundException

    from app.domain import audit

    facts = await application_facts(application_id)
    if facts is None or not can_open_application(viewer, facts):
        await audit.record(
            audit.Event.NOT_FOUND_IN_SCOPE,
            actor_id=viewer.id,
            application_id=application_id,
            client_address=client_address,
        )
        raise NotFoundException()
    return facts


# --- scopes of area managers and observers (issue 6) ---


def can_grant_scope(viewer: Viewer, area: str | None) -> bool:
    """Admins grant or remove scopes on their own départements; "all" is for the CLI."""
    return viewer.is_admin and area is not None and area in viewer.admin_areas


# --- statistics (issue 13) ---
# A scope of statistics is a union of terms; a demande is in a term when it matches every
# part the term sets: its département among `areas`, `organisation` among the organisations
# of its groups (creator's group and addressed groups), `group` among those groups.
# Filters chosen on the page are intersected with these terms (app/domain/statistics.py),
# so they narrow the scope and never widen it.


@dataclass(frozen=True)
class StatisticsTerm:
    areas: frozenset[str] | None = None
    organisation: str | None = None
    group: UUID | None = None
    network: str | None = None


NATIONAL_STATISTICS = (StatisticsTerm(),)


def statistics_scope(viewer: Viewer) -> tuple[StatisticsTerm, ...]:
    """The demandes whose figures the viewer may see: own groups (every member, responsables
    included), area manager and observer scopes, the admin's départements."""
    terms: list[StatisticsTerm] = []
    for org, area in sorted(
        viewer.area_manager_scopes | viewer.observer_scopes, key=lambda s: (s[0] or "", s[1] or "")
    ):
        if org is None and area is None:
            return NATIONAL_STATISTICS
        terms.append(StatisticsTerm(areas=frozenset([area]) if area else None, organisation=org))
    if viewer.is_admin and viewer.admin_areas:
        terms.append(StatisticsTerm(areas=frozenset(viewer.admin_areas)))
    terms.extend(StatisticsTerm(group=g) for g in sorted(viewer.group_ids))
    return tuple(terms)


@route_rule
def can_see_statistics(viewer: Viewer | None) -> bool:
    """Members of a group, area managers, observers and admins of départements."""
    return is_authenticated(viewer) and bool(statistics_scope(viewer))


@route_rule
def can_see_deployment(viewer: Viewer | None) -> bool:
    """The deployment view (instructeurs per organisation and département): admins, observers."""
    return is_authenticated(viewer) and (
        (viewer.is_admin and bool(viewer.admin_areas)) or viewer.is_observer
    )


@route_rule
def can_refresh_statistics(viewer: Viewer | None) -> bool:
    """Asking for a recomputation now (besides the schedule): admins."""
    return can_use_admin_screens(viewer)


def deployment_scope(viewer: Viewer) -> tuple[StatisticsTerm, ...]:
    """Organisation × département units the deployment view covers (no group terms)."""
    return tuple(t for t in statistics_scope(viewer) if t.group is None)


def landing_path(viewer: Viewer) -> str:
    """Where a login without `suivant` lands: observers and area managers on their
    statistics, admins on the admin home, everyone else on their inbox."""
    if (viewer.is_observer or viewer.is_area_manager) and can_see_statistics(viewer):
        return "/statistiques"
    if can_use_admin_screens(viewer):
        return "/admin"
    return "/demandes"
