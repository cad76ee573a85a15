"""Groups and their members: Mes groupes, inline edits, account creation, group texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app import clock, emails
from app.domain import applications, audit, sessions
from app.domain.reference import HELPER_ORGANISATIONS
from app.domain.users import DomainError, add_member, create_user
from app.domain.validators import ValidationError, normalize_email, normalize_french_phone
from app.piccolo_conf import DB
from app.policies import AccountFacts, Viewer, is_last_manager, visible_groups
from app.tables import (
    Application,
    Group,
    Membership,
    User,
)

_HELPER_ORGANISATION_CODES = frozenset(o.code for o in HELPER_ORGANISATIONS)


def is_helper_organisation(code: str | None) -> bool:
    """New accounts of such a group are aidants (France Services, mairie, CCAS…)."""
    return code is None or code in _HELPER_ORGANISATION_CODES


MAX_NEW_ROWS = 50

# Fields a responsable edits on a member's row (the e-mail is for admins only, spec §5).
MEMBER_TEXT_FIELDS = ("first_name", "last_name", "qualite", "phone")
MEMBER_FLAGS = ("is_instructor", "is_manager", "is_collective")


# --- loading through the scope --------------------------------------------------------------


async def my_groups(viewer: Viewer) -> list[Group]:
    """Groups of "Mes groupes": mine, and those of my area manager / observer scopes."""
    return (
        await Group.objects()
        .where(visible_groups(viewer, with_admin_areas=False))
        .order_by(Group.name)
    )


# "Mes groupes" shows this many blocks a page: a national observer's scope holds every group.
MY_GROUPS_PAGE_SIZE = 20


async def my_groups_page(viewer: Viewer, q: str = "", page: int = 1) -> tuple[list[Group], int]:
    """One page of "Mes groupes", searched by name or département code; (groups, total)."""
    where = visible_groups(viewer, with_admin_areas=False)
    q = " ".join(q.split())
    if q:
        where = where & (Group.name.ilike(f"%{q}%") | Group.areas.any(q.upper()))
    total = await Group.count().where(where)
    rows = (
        await Group.objects()
        .where(where)
        .order_by(Group.name, Group.id)
        .limit(MY_GROUPS_PAGE_SIZE)
        .offset((page - 1) * MY_GROUPS_PAGE_SIZE)
    )
    return rows, total


async def group_members(group_ids: Sequence[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """Members of each group with how many groups each belongs to (one query)."""
    result: dict[UUID, list[dict[str, Any]]] = {g: [] for g in group_ids}
    if not group_ids:
        return result
    rows = await Membership.raw(
        f"SELECT {_MEMBER_COLUMNS} FROM membership m JOIN app_user u ON u.id = m.user"
        f" WHERE m.group = ANY({{}}::uuid[]) ORDER BY {_MEMBER_ORDER}",
        list(group_ids),
    )
    for row in rows:
        result[row["group_id"]].append(row)
    return result


# Active members a group block shows at once: a 3 750-member group rendered whole was
# 5.5 MB of HTML (issue 16). Disabled members, listed on demand, are capped the same way.
MEMBERS_PAGE_SIZE = 50

_MEMBER_COLUMNS = (
    "m.group AS group_id, m.is_manager, u.id, u.email, u.first_name, u.last_name,"
    " u.qualite, u.phone, u.is_helper, u.is_instructor, u.is_collective, u.is_admin,"
    " u.is_expert, u.last_seen_at, u.disabled_at, u.created_at,"
    " (SELECT count(*) FROM membership o WHERE o.user = u.id) AS groups_count"
)
_MEMBER_ORDER = "lower(u.last_name), lower(u.first_name), u.email, u.id"


@dataclass
class MembersPage:
    """One page of a group's active members, and the first page of its disabled ones."""

    active: list[dict[str, Any]]
    disabled: list[dict[str, Any]]
    active_total: int
    disabled_total: int
    page: int

    page_size: int = MEMBERS_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.active_total // self.page_size))


async def group_members_pages(
    pages: dict[UUID, int], *, around: UUID | None = None
) -> dict[UUID, MembersPage]:
    """For each group, the requested page of active members (two statements for any number).

    ``around``: a member whose page is shown instead (the row just edited or added).
    A page past the end shows the last one.
    """
    if not pages:
        return {}
    ids, numbers = list(pages), [max(1, n) for n in pages.values()]
    ranked = (
        "WITH ranked AS (SELECT m.group AS group_id, m.user AS user_id,"
        " u.disabled_at IS NOT NULL AS is_disabled,"
        " row_number() OVER (PARTITION BY m.group, u.disabled_at IS NOT NULL"
        f" ORDER BY {_MEMBER_ORDER}) AS rank"
        " FROM membership m JOIN app_user u ON u.id = m.user WHERE m.group = ANY({}::uuid[]))"
    )
    targets = await Membership.raw(
        ranked + ", totals AS (SELECT g.id, g.page,"
        " (SELECT count(*) FROM ranked r WHERE r.group_id = g.id AND NOT r.is_disabled) AS active,"
        " (SELECT count(*) FROM ranked r WHERE r.group_id = g.id AND r.is_disabled) AS disabled,"
        " (SELECT (r.rank - 1) / {} + 1 FROM ranked r WHERE r.group_id = g.id"
        "   AND r.user_id = {} AND NOT r.is_disabled) AS around_page"
        " FROM unnest({}::uuid[], {}::int[]) AS g(id, page))"
        " SELECT id, active, disabled, least(coalesce(around_page, page),"
        " greatest(1, (active + {} - 1) / {})) AS page FROM totals",
        ids,
        MEMBERS_PAGE_SIZE,
        around,
        ids,
        numbers,
        MEMBERS_PAGE_SIZE,
        MEMBERS_PAGE_SIZE,
    )
    result = {
        t["id"]: MembersPage([], [], t["active"], t["disabled"], t["page"], MEMBERS_PAGE_SIZE)
        for t in targets
    }
    rows = await Membership.raw(
        ranked + f" SELECT r.rank, {_MEMBER_COLUMNS} FROM ranked r"
        " JOIN unnest({}::uuid[], {}::int[]) AS g(id, page) ON g.id = r.group_id"
        " JOIN membership m ON m.group = r.group_id AND m.user = r.user_id"
        " JOIN app_user u ON u.id = r.user_id"
        " WHERE r.rank > CASE WHEN r.is_disabled THEN 0 ELSE (g.page - 1) * {} END"
        " AND r.rank <= CASE WHEN r.is_disabled THEN 1 ELSE g.page END * {}"
        f" ORDER BY r.group_id, r.rank",
        ids,
        ids,
        [result[g].page for g in ids],
        MEMBERS_PAGE_SIZE,
        MEMBERS_PAGE_SIZE,
    )
    for row in rows:
        page = result[row["group_id"]]
        (page.disabled if row["disabled_at"] is not None else page.active).append(row)
    return result


async def member_row(group_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    rows = await Membership.raw(
        f"SELECT {_MEMBER_COLUMNS} FROM membership m JOIN app_user u ON u.id = m.user"
        " WHERE m.group = {} AND m.user = {}",
        group_id,
        user_id,
    )
    return rows[0] if rows else None


# --- the instructeur's access to the group's open demandes (spec §4.2) -------------------


async def open_applications_to_grant(group_id: UUID, user_id: UUID) -> int:
    """How many open demandes addressed to the group this person would start reading."""
    return len(await applications.open_applications_of_group(group_id, not_on=user_id))


async def grant_group_open_applications(
    group_id: UUID, user_id: UUID, *, invited_by: UUID | None = None
) -> int:
    """Make a new instructeur of the group a participant of its open demandes."""
    given = await applications.grant_open_applications_to_new_instructor(
        group_id, user_id, invited_by=invited_by
    )
    return len(given)


# --- membership actions ---------------------------------------------------------------------


def _last_manager_message(group: Group) -> str:
    return (
        f"Impossible : cette personne est le dernier responsable du groupe « {group.name} ». "
        "Nommez d'abord un autre responsable."
    )


async def add_existing_member(
    group: Group, email: str, *, actor_id: UUID, confirmed: bool = False, client_address: str = ""
) -> tuple[User, int | None]:
    """Add an existing account by e-mail; (user, N) asks to confirm access to N demandes."""
    address = normalize_email(email)
    user = await User.objects().where(User.email == address).first()
    if user is None:
        raise ValidationError(
            "Aucun compte n'existe avec cette adresse. Un responsable du groupe peut le créer."
        )
    if user.disabled_at is not None:
        raise ValidationError(
            "Ce compte est désactivé : l'équipe Administration+ peut le réactiver."
        )
    if await Membership.exists().where(
        (Membership.group == group.id) & (Membership.user == user.id)
    ):
        raise ValidationError("Cette personne fait déjà partie du groupe.")
    if user.is_instructor and not confirmed:
        count = await open_applications_to_grant(group.id, user.id)
        if count:
            return user, count
    async with DB.transaction():
        # Hosted, not governed: adding someone gives no power over their account.
        await add_member(group.id, user.id, governs=False)
        if user.is_instructor:
            await grant_group_open_applications(group.id, user.id, invited_by=actor_id)
        await audit.record(
            audit.Event.MEMBER_ADDED,
            actor_id=actor_id,
            user_id=user.id,
            group_id=group.id,
            client_address=client_address,
        )
    return user, None


async def deactivate_member(
    group: Group, account: AccountFacts, way_out: str, *, actor_id: UUID, client_address: str = ""
) -> str:
    """`way_out` from `policies.member_exit`: "remove" from this group, or "disable" the
    account."""
    if is_last_manager(account, group.id):
        raise DomainError(_last_manager_message(group))
    if way_out == "remove":
        await Membership.delete().where(
            (Membership.group == group.id) & (Membership.user == account.id)
        )
        await audit.record(
            audit.Event.MEMBER_REMOVED,
            actor_id=actor_id,
            user_id=account.id,
            group_id=group.id,
            client_address=client_address,
        )
        return "removed"
    if account.is_disabled:
        raise DomainError("Ce compte est déjà désactivé.")
    await User.update({User.disabled_at: clock.now()}).where(User.id == account.id)
    await sessions.revoke_all_sessions(account.id)
    await audit.record(
        audit.Event.USER_DISABLED,
        actor_id=actor_id,
        user_id=account.id,
        group_id=group.id,
        client_address=client_address,
        changed_fields=["disabled_at"],
    )
    return "disabled"


async def reactivate_member(
    group: Group, account: AccountFacts, *, actor_id: UUID, client_address: str = ""
) -> None:
    """Reactivate a disabled account that is still in this group."""
    if not account.is_disabled:
        raise DomainError("Ce compte est déjà actif.")
    await User.update({User.disabled_at: None}).where(User.id == account.id)
    await audit.record(
        audit.Event.USER_REACTIVATED,
        actor_id=actor_id,
        user_id=account.id,
        group_id=group.id,
        client_address=client_address,
        changed_fields=["disabled_at"],
    )


# --- inline edits by responsables ------------------------------------------------------------


@dataclass
class MemberForm:
    """A member's row as typed: cleaned values, field errors, and the instructeur step."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    # Set when granting the instructeur role needs a confirmation: demandes they would read.
    confirm_count: int | None = None


def checked(data: dict[str, Any], name: str) -> bool:
    """A checkbox of a posted form."""
    return str(data.get(name, "")).strip().lower() in {"1", "on", "true", "oui"}


def clean_member_fields(data: dict[str, Any], *, prefix: str = "") -> tuple[dict, dict]:
    """Values and field errors of a member's row (names prefixed for multi-row forms)."""
    values: dict[str, Any] = {
        "first_name": " ".join(str(data.get(prefix + "first_name", "")).split()),
        "last_name": " ".join(str(data.get(prefix + "last_name", "")).split()),
        "qualite": " ".join(str(data.get(prefix + "qualite", "")).split()),
        "phone": str(data.get(prefix + "phone", "")).strip(),
        "is_instructor": checked(data, prefix + "is_instructor"),
        "is_manager": checked(data, prefix + "is_manager"),
        "is_collective": checked(data, prefix + "is_collective"),
    }
    errors: dict[str, str] = {}
    for name, limit in (("first_name", 100), ("last_name", 100), ("qualite", 150)):
        if len(values[name]) > limit:
            errors[name] = f"Ce champ ne doit pas dépasser {limit} caractères."
    if values["phone"]:
        try:
            values["phone"] = normalize_french_phone(values["phone"])
        except ValidationError as error:
            errors["phone"] = str(error)
    return values, errors


async def update_member(
    group: Group,
    account: AccountFacts,
    data: dict[str, Any],
    *,
    fields: frozenset[str],
    actor_id: UUID,
    client_address: str = "",
) -> MemberForm:
    """Save the `fields` of a member's row (`policies.editable_member_fields`); the others
    keep their value. Refuses errors, asks to confirm a new instructeur's access."""
    user_id = account.id
    values, errors = clean_member_fields(data)
    user = await User.objects().get(User.id == user_id)
    membership = account.membership_in(group.id)
    current = {
        name: getattr(user, name)
        for name in (*MEMBER_TEXT_FIELDS, "is_instructor", "is_collective")
    }
    current["is_manager"] = membership.is_manager
    for name in set(values) - fields:
        values[name] = current[name]
        errors.pop(name, None)
    form = MemberForm(values=values, errors=errors)
    if membership.is_manager and not values["is_manager"] and is_last_manager(account, group.id):
        form.errors["is_manager"] = _last_manager_message(group)
    if form.errors:
        return form
    granting = values["is_instructor"] and not user.is_instructor
    if granting and not checked(data, "confirm_instructor"):
        count = await open_applications_to_grant(group.id, user_id)
        if count:
            form.confirm_count = count
            return form
    changed = [
        name
        for name in (
            "first_name",
            "last_name",
            "qualite",
            "phone",
            "is_instructor",
            "is_collective",
        )
        if getattr(user, name) != values[name]
    ]
    async with DB.transaction():
        if changed:
            await User.update({getattr(User, name): values[name] for name in changed}).where(
                User.id == user_id
            )
        if membership.is_manager != values["is_manager"]:
            changed.append("is_manager")
            await Membership.update({Membership.is_manager: values["is_manager"]}).where(
                (Membership.group == group.id) & (Membership.user == user_id)
            )
        if granting:
            await grant_group_open_applications(group.id, user_id, invited_by=actor_id)
            await audit.record(
                audit.Event.INSTRUCTOR_ACCESS_GRANTED,
                actor_id=actor_id,
                user_id=user_id,
                group_id=group.id,
                client_address=client_address,
            )
        if changed:
            # Names only: values of personal fields must never be written to the log.
            await audit.record(
                audit.Event.MEMBER_UPDATED,
                actor_id=actor_id,
                user_id=user_id,
                group_id=group.id,
                client_address=client_address,
                changed_fields=changed,
            )
    return form


# --- creating several accounts at once ------------------------------------------------------

NEW_ACCOUNT_FIELDS = (
    "first_name",
    "last_name",
    "qualite",
    "email",
    "phone",
    "is_instructor",
    "is_manager",
    "is_collective",
)


@dataclass
class NewAccountsForm:
    rows: list[dict[str, Any]]
    errors: list[dict[str, str]]
    confirm_count: int | None = None
    created: list[User] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(self.errors)


def read_new_account_rows(data: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Rows `l{i}-<field>` of the multi-row form, as typed."""
    rows = []
    for i in range(count):
        prefix = f"l{i}-"
        row = {name: str(data.get(prefix + name, "")).strip() for name in NEW_ACCOUNT_FIELDS}
        for flag in ("is_instructor", "is_manager", "is_collective"):
            row[flag] = checked(data, prefix + flag)
        rows.append(row)
    return rows


def _is_blank(row: dict[str, Any]) -> bool:
    return not any(row[name] for name in ("first_name", "last_name", "qualite", "email", "phone"))


async def create_accounts(
    group: Group,
    rows: list[dict[str, Any]],
    *,
    actor_id: UUID,
    confirmed: bool = False,
    client_address: str = "",
) -> NewAccountsForm:
    """All or nothing: every filled row becomes an account in the group, or none does."""
    form = NewAccountsForm(rows=rows, errors=[{} for _ in rows])
    seen: dict[str, int] = {}
    filled = [i for i, row in enumerate(rows) if not _is_blank(row)]
    if not filled:
        if rows:
            form.errors[0]["email"] = "Remplissez au moins une ligne."
        return form
    cleaned: dict[int, dict[str, Any]] = {}
    for i in filled:
        row = rows[i]
        values, errors = clean_member_fields(row)
        try:
            values["email"] = normalize_email(row["email"])
        except ValidationError as error:
            errors["email"] = str(error)
        else:
            if values["email"] in seen:
                line = seen[values["email"]] + 1
                errors["email"] = f"Cette adresse figure déjà à la ligne {line}."
            else:
                seen[values["email"]] = i
        form.errors[i] = errors
        cleaned[i] = values
    if seen:
        existing = {
            r["email"] for r in await User.select(User.email).where(User.email.is_in(list(seen)))
        }
        for address in existing:
            form.errors[seen[address]]["email"] = (
                "Un compte existe déjà avec cette adresse : ajoutez-le au groupe par son e-mail."
            )
    if form.has_errors:
        return form
    if any(v["is_instructor"] for v in cleaned.values()) and not confirmed:
        # Nobody exists yet, so every new instructeur would read all the open demandes.
        rows_ = await Application.raw(
            "SELECT count(DISTINCT ag.application) AS n FROM application_group ag"
            " JOIN application a ON a.id = ag.application"
            " WHERE ag.group = {} AND a.status <> 'archived'",
            group.id,
        )
        if rows_[0]["n"]:
            form.confirm_count = rows_[0]["n"]
            return form
    helper = is_helper_organisation(group.organisation)
    async with DB.transaction():
        for i in filled:
            values = cleaned[i]
            user = await create_user(
                values["email"],
                first_name=values["first_name"],
                last_name=values["last_name"],
                qualite=values["qualite"],
                phone=values["phone"],
                helper=helper,
                instructor=values["is_instructor"],
                collective=values["is_collective"],
                groups=[group.id],
                managed_groups=[group.id] if values["is_manager"] else [],
            )
            if values["is_instructor"]:
                await grant_group_open_applications(group.id, user.id, invited_by=actor_id)
            await audit.record(
                audit.Event.USER_CREATED,
                actor_id=actor_id,
                user_id=user.id,
                group_id=group.id,
                client_address=client_address,
            )
            form.created.append(user)
        for user in form.created:
            await emails.welcome(user.email, group.name)
    return form


# --- the group's texts ----------------------------------------------------------------------

GROUP_TEXT_FIELDS = ("name", "short_description", "public_note", "bal_email")


def clean_group_texts(
    data: dict[str, Any], fields: Sequence[str] = GROUP_TEXT_FIELDS
) -> tuple[dict[str, Any], dict[str, str]]:
    """The group's texts among `fields`, checked alike on the group page and the admin's."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "name" in fields:
        values["name"] = " ".join(str(data.get("name", "")).split())
        if not values["name"]:
            errors["name"] = "Le nom du groupe est obligatoire."
        elif len(values["name"]) > 200:
            errors["name"] = "Le nom du groupe ne doit pas dépasser 200 caractères."
    if "short_description" in fields:
        values["short_description"] = " ".join(str(data.get("short_description", "")).split())
        if len(values["short_description"]) > 300:
            errors["short_description"] = (
                "La description courte ne doit pas dépasser 300 caractères."
            )
    if "public_note" in fields:
        values["public_note"] = str(data.get("public_note", "")).strip().replace("\r\n", "\n")
        if len(values["public_note"]) > 5000:
            errors["public_note"] = "La note publique ne doit pas dépasser 5 000 caractères."
    if "bal_email" in fields:
        values["bal_email"] = str(data.get("bal_email", "")).strip() or None
        if values["bal_email"]:
            try:
                values["bal_email"] = normalize_email(values["bal_email"])
            except ValidationError as error:
                errors["bal_email"] = str(error)
    return values, errors


async def save_group_changes(
    group: Group,
    values: dict[str, Any],
    fields: Sequence[str],
    *,
    actor_id: UUID,
    client_address: str = "",
) -> list[str]:
    """Write the fields whose value changed and log their names; returns those names."""
    changed = [name for name in fields if getattr(group, name) != values[name]]
    if changed:
        await Group.update({getattr(Group, name): values[name] for name in changed}).where(
            Group.id == group.id
        )
        await audit.record(
            audit.Event.GROUP_UPDATED,
            actor_id=actor_id,
            group_id=group.id,
            client_address=client_address,
            changed_fields=changed,
        )
    return changed


async def update_group_texts(
    group: Group, data: dict[str, Any], *, actor_id: UUID, client_address: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    values, errors = clean_group_texts(data)
    if not errors:
        await save_group_changes(
            group, values, GROUP_TEXT_FIELDS, actor_id=actor_id, client_address=client_address
        )
    return values, errors


# --- exports --------------------------------------------------------------------------------

EXPORT_HEADER = [
    "Groupe",
    "Prénom",
    "Nom",
    "Qualité",
    "E-mail",
    "Téléphone",
    "Aidant",
    "Instructeur",
    "Responsable",
    "Compte partagé",
    "Désactivé",
    "Dernière activité",
]


async def export_rows(groups: Sequence[Group]) -> list[list[Any]]:
    members = await group_members([g.id for g in groups])
    out: list[list[Any]] = []
    for group in groups:
        for m in members[group.id]:
            out.append(
                [
                    group.name,
                    m["first_name"],
                    m["last_name"],
                    m["qualite"],
                    m["email"],
                    m["phone"],
                    _yes(m["is_helper"]),
                    _yes(m["is_instructor"]),
                    _yes(m["is_manager"]),
                    _yes(m["is_collective"]),
                    _yes(m["disabled_at"] is not None),
                    m["last_seen_at"].astimezone(emails.PARIS).strftime("%d/%m/%Y %H:%M")
                    if m["last_seen_at"]
                    else "",
                ]
            )
    return out


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"
