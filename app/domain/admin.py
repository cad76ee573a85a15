"""Admin screens: groups, users, the events log, pre-registration and CSV import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from app import clock, emails
from app.domain import applications, audit, files, reference, sessions
from app.domain.groups import (
    checked,
    clean_group_texts,
    clean_member_fields,
    is_helper_organisation,
    save_group_changes,
)
from app.domain.users import add_member, create_group, create_user
from app.domain.validators import ValidationError, normalize_email, page_number
from app.emails import PARIS as PARIS_TZ
from app.piccolo_conf import DB
from app.policies import (
    GroupFacts,
    Viewer,
    administered_groups,
    administered_users,
    can_add_member,
    can_create_group_in,
    can_grant_scope,
    can_set_group_areas,
    people_of_admin_areas,
)
from app.settings import get_settings
from app.tables import (
    Application,
    ApplicationGroup,
    AuditEvent,
    Group,
    ManagerScope,
    Membership,
    User,
)

PAGE_SIZE = 50


# --- groups --------------------------------------------------------------------------------


async def list_groups(viewer: Viewer, q: str = "") -> list[dict[str, Any]]:
    query = Group.select(
        Group.id, Group.name, Group.organisation, Group.areas, Group.network
    ).where(administered_groups(viewer))
    if q:
        query = query.where(Group.name.ilike(f"%{q}%"))
    rows = await query.order_by(Group.name)
    counts = (
        {
            r["group"]: r["n"]
            for r in await Membership.raw(
                "SELECT m.group, count(*) AS n FROM membership m"
                " WHERE m.group = ANY({}::uuid[]) GROUP BY m.group",
                [r["id"] for r in rows],
            )
        }
        if rows
        else {}
    )
    for row in rows:
        row["members"] = counts.get(row["id"], 0)
    return rows


async def load_group(viewer: Viewer, group_id: UUID) -> Group | None:
    return await Group.objects().where((Group.id == group_id) & administered_groups(viewer)).first()


def parse_areas(value: str) -> tuple[list[str], str | None]:
    """Département codes typed as "75, 92 93": (codes, error)."""
    codes: list[str] = []
    for raw in value.replace(";", ",").replace(" ", ",").split(","):
        if not raw.strip():
            continue
        try:
            code = reference.departement(raw).code
        except KeyError:
            return codes, f"Département inconnu : « {raw.strip()} »."
        if code not in codes:
            codes.append(code)
    if not codes:
        return codes, "Indiquez au moins un département."
    return codes, None


def clean_group(
    viewer: Viewer, data: dict[str, Any], *, current: Group | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    values, errors = clean_group_texts(data, ("name", "short_description", "bal_email"))
    values.update(
        organisation=str(data.get("organisation", "")).strip(),
        areas_text=str(data.get("areas", "")).strip(),
        network=" ".join(str(data.get("network", "")).split()),
    )
    try:
        reference.organisation(values["organisation"])
    except KeyError:
        errors["organisation"] = "Choisissez un organisme dans la liste."
    areas, error = parse_areas(values["areas_text"])
    values["areas"] = areas
    if error:
        errors["areas"] = error
    else:
        allowed = (
            can_set_group_areas(viewer, current, areas)
            if current
            else can_create_group_in(viewer, areas)
        )
        outside = sorted(set(areas) - set(current.areas if current else []) - viewer.admin_areas)
        if allowed:
            pass
        elif outside:
            errors["areas"] = (
                "Vous n'administrez pas ce(s) département(s) : " + ", ".join(outside) + "."
            )
        else:
            errors["areas"] = "Le groupe doit rester dans au moins un de vos départements."
    if len(values["network"]) > 100:
        errors["network"] = "Le réseau ne doit pas dépasser 100 caractères."
    return values, errors


GROUP_FIELDS = ("name", "organisation", "areas", "network", "short_description", "bal_email")


async def save_group(
    viewer: Viewer, group: Group | None, values: dict[str, Any], *, client_address: str = ""
) -> Group:
    if group is None:
        group = await create_group(
            values["name"],
            organisation=values["organisation"],
            areas=values["areas"],
            short_description=values["short_description"],
            bal_email=values["bal_email"],
            network=values["network"],
        )
        await Group.update({Group.created_by: viewer.id}).where(Group.id == group.id)
        await audit.record(
            audit.Event.GROUP_CREATED,
            actor_id=viewer.id,
            group_id=group.id,
            client_address=client_address,
        )
        return group
    await save_group_changes(
        group, values, GROUP_FIELDS, actor_id=viewer.id, client_address=client_address
    )
    return group


async def delete_group(viewer: Viewer, group: Group, *, client_address: str = "") -> str | None:
    """Delete an empty group; returns the French reason when it is not empty."""
    if await Membership.exists().where(Membership.group == group.id):
        return "Ce groupe a encore des membres : retirez-les avant de le supprimer."
    used = await ApplicationGroup.exists().where(ApplicationGroup.group == group.id)
    used = used or await Application.exists().where(Application.creator_group == group.id)
    if used:
        return "Des demandes concernent ce groupe : il ne peut pas être supprimé."
    await Group.delete().where(Group.id == group.id)
    await audit.record(
        audit.Event.GROUP_DELETED,
        actor_id=viewer.id,
        group_id=group.id,
        client_address=client_address,
    )
    return None


# --- users ---------------------------------------------------------------------------------


async def list_users(viewer: Viewer, q: str = "", page: int = 1) -> tuple[list[dict], bool]:
    """A page of the accounts this admin administers; (rows, has_next)."""
    query = User.select(
        User.id,
        User.email,
        User.first_name,
        User.last_name,
        User.is_helper,
        User.is_instructor,
        User.disabled_at,
        User.last_seen_at,
    ).where(administered_users(viewer))
    if q:
        pattern = f"%{q}%"
        query = query.where(
            User.email.ilike(pattern)
            | User.first_name.ilike(pattern)
            | User.last_name.ilike(pattern)
        )
    rows = await query.order_by(User.email).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def get_user(user_id: UUID) -> User:
    """An account the route guard already loaded through `AdministeredAccountById`."""
    return await User.objects().get(User.id == user_id)


async def user_memberships(user_id: UUID) -> list[dict[str, Any]]:
    return await Membership.raw(
        "SELECT m.id, m.is_manager, g.id AS group_id, g.name FROM membership m"
        " JOIN app_group g ON g.id = m.group WHERE m.user = {} ORDER BY g.name",
        user_id,
    )


def clean_user(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values, errors = clean_member_fields(data)
    values.pop("is_manager")
    values["is_helper"] = checked(data, "is_helper")
    values["disabled"] = checked(data, "disabled")
    values["internal_note"] = str(data.get("internal_note", "")).strip()
    try:
        values["email"] = normalize_email(data.get("email"))
    except ValidationError as e:
        values["email"] = str(data.get("email", "")).strip()
        errors["email"] = str(e)
    return values, errors


USER_FIELDS = (
    "first_name",
    "last_name",
    "qualite",
    "phone",
    "is_helper",
    "is_instructor",
    "is_collective",
    "internal_note",
)


async def save_user(
    viewer: Viewer, user: User, values: dict[str, Any], *, client_address: str = ""
) -> dict[str, str]:
    """Admin edit of a user; the admin and expert flags are not even read from the form."""
    errors: dict[str, str] = {}
    email_changed = values["email"] != user.email
    if email_changed and await User.exists().where(User.email == values["email"]):
        errors["email"] = "Un autre compte utilise déjà cette adresse."
        return errors
    changes = {getattr(User, n): values[n] for n in USER_FIELDS if getattr(user, n) != values[n]}
    if values["disabled"] != (user.disabled_at is not None):
        changes[User.disabled_at] = clock.now() if values["disabled"] else None
    async with DB.transaction():
        if email_changed:
            changes[User.email] = values["email"]
            # A new address is a new person as far as consent and sessions go.
            changes[User.cgu_version] = None
            changes[User.cgu_accepted_at] = None
        if changes:
            await User.update(changes).where(User.id == user.id)
        if email_changed or values["disabled"]:
            await sessions.revoke_all_sessions(user.id)
        if email_changed:
            await audit.record(
                audit.Event.USER_EMAIL_CHANGED,
                actor_id=viewer.id,
                user_id=user.id,
                client_address=client_address,
                changed_fields=["email"],
            )
        if User.disabled_at in changes:
            code = audit.Event.USER_DISABLED if values["disabled"] else audit.Event.USER_REACTIVATED
            await audit.record(
                code,
                actor_id=viewer.id,
                user_id=user.id,
                client_address=client_address,
                changed_fields=["disabled_at"],
            )
        if values.get("is_instructor") and not user.is_instructor:
            # Spec §4.2: a new instructeur reads their groups' open demandes. The admin saw
            # the count on the user page; unlike a responsable, no extra confirmation step.
            for membership in await user_memberships(user.id):
                await applications.grant_open_applications_to_new_instructor(
                    membership["group_id"], user.id, invited_by=viewer.id
                )
        if changes:
            await audit.record(
                audit.Event.USER_UPDATED,
                actor_id=viewer.id,
                user_id=user.id,
                client_address=client_address,
                changed_fields=[column._meta.name for column in changes],
            )
    return errors


async def delete_user(viewer: Viewer, user: User, *, client_address: str = "") -> None:
    """`policies.can_delete_user` (checked by the route guard): never used, not admin/expert."""
    await User.delete().where(User.id == user.id)
    await audit.record(
        audit.Event.USER_DELETED, actor_id=viewer.id, user_id=user.id, client_address=client_address
    )


async def add_user_to_group(
    viewer: Viewer,
    user: User,
    group: Group,
    *,
    manager: bool,
    governs: bool = True,
    client_address: str = "",
) -> None:
    """`governs`: from the user page the admin governs the account, and so does the group;
    pre-registration adds existing accounts by e-mail, hosted only."""
    await add_member(group.id, user.id, manager=manager, governs=governs)
    if user.is_instructor:
        await applications.grant_open_applications_to_new_instructor(
            group.id, user.id, invited_by=viewer.id
        )
    await audit.record(
        audit.Event.MEMBER_ADDED,
        actor_id=viewer.id,
        user_id=user.id,
        group_id=group.id,
        client_address=client_address,
        changed_fields=["groups", "is_manager"] if manager else ["groups"],
    )


async def remove_user_from_group(
    viewer: Viewer, user: User, group: Group, *, client_address: str = ""
) -> None:
    await Membership.delete().where((Membership.user == user.id) & (Membership.group == group.id))
    await audit.record(
        audit.Event.MEMBER_REMOVED,
        actor_id=viewer.id,
        user_id=user.id,
        group_id=group.id,
        client_address=client_address,
        changed_fields=["groups"],
    )


# --- scopes of area managers and observers -------------------------------------------------

SCOPE_ROLES = {"area_manager": "Responsable de territoire", "observer": "Observateur"}


async def user_scopes(user_id: UUID) -> list[dict[str, Any]]:
    """The user's scopes, labelled; `None` organisation or area means all of them."""
    rows = await ManagerScope.select(
        ManagerScope.id, ManagerScope.role, ManagerScope.organisation, ManagerScope.area
    ).where(ManagerScope.user == user_id)
    for row in rows:
        row["role_label"] = SCOPE_ROLES.get(row["role"], row["role"])
        row["organisation_label"] = (
            reference.organisation(row["organisation"]).short_name
            if row["organisation"]
            else "Tous les organismes"
        )
        row["area_label"] = (
            reference.departement(row["area"]).label if row["area"] else "Tous les départements"
        )
    return sorted(rows, key=lambda r: (r["role"], r["area"] or "", r["organisation"] or ""))


def clean_scope(viewer: Viewer, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A scope typed on the admin user page; "all départements" is for the CLI only."""
    values: dict[str, Any] = {
        "role": str(data.get("role", "")).strip(),
        "organisation": str(data.get("organisation", "")).strip() or None,
        "area": str(data.get("area", "")).strip() or None,
    }
    errors: dict[str, str] = {}
    if values["role"] not in SCOPE_ROLES:
        errors["role"] = "Choisissez « responsable de territoire » ou « observateur »."
    if values["organisation"] is not None:
        try:
            reference.organisation(values["organisation"])
        except KeyError:
            errors["organisation"] = "Choisissez un organisme dans la liste."
    if values["area"] is None:
        errors["area"] = (
            "Choisissez un département : un périmètre sur tous les départements "
            "s'attribue en ligne de commande."
        )
    else:
        try:
            values["area"] = reference.departement(values["area"]).code
        except KeyError:
            errors["area"] = "Département inconnu."
        else:
            if not can_grant_scope(viewer, values["area"]):
                errors["area"] = "Vous n'administrez pas ce département."
    return values, errors


async def grant_scope(
    user_id: UUID, role: str, organisation: str | None, area: str | None
) -> ManagerScope | None:
    """Add the scope unless the user already has it (then None); checks are the caller's."""
    same = (
        (ManagerScope.user == user_id)
        & (ManagerScope.role == role)
        & (
            ManagerScope.organisation.is_null()
            if organisation is None
            else ManagerScope.organisation == organisation
        )
        & (ManagerScope.area.is_null() if area is None else ManagerScope.area == area)
    )
    if await ManagerScope.exists().where(same):
        return None
    scope = ManagerScope(user=user_id, role=role, organisation=organisation, area=area)
    await scope.save()
    return scope


async def add_scope(
    viewer: Viewer, user: User, values: dict[str, Any], *, client_address: str = ""
) -> str | None:
    """Grant a cleaned scope; returns the French reason when it already exists."""
    scope = await grant_scope(user.id, values["role"], values["organisation"], values["area"])
    if scope is None:
        return "Cette personne a déjà ce périmètre."
    await audit.record(
        audit.Event.SCOPE_GRANTED,
        actor_id=viewer.id,
        user_id=user.id,
        client_address=client_address,
        changed_fields=["scopes"],
    )
    return None


async def remove_scope(
    viewer: Viewer, user: User, scope_id: UUID, *, client_address: str = ""
) -> str | None:
    """Remove one of the user's scopes on a département this admin administers."""
    scope = (
        await ManagerScope.objects()
        .where((ManagerScope.id == scope_id) & (ManagerScope.user == user.id))
        .first()
    )
    if scope is None:
        return "Ce périmètre n'existe pas ou plus."
    if not can_grant_scope(viewer, scope.area):
        return "Ce périmètre dépasse vos départements : il se gère en ligne de commande."
    await scope.remove()
    await audit.record(
        audit.Event.SCOPE_REMOVED,
        actor_id=viewer.id,
        user_id=user.id,
        client_address=client_address,
        changed_fields=["scopes"],
    )
    return None


# --- events log ----------------------------------------------------------------------------

# How the events log names the fields an edit changed.
FIELD_LABELS = {
    "email": "e-mail",
    "first_name": "prénom",
    "last_name": "nom",
    "qualite": "qualité",
    "phone": "téléphone",
    "is_helper": "aidant",
    "is_instructor": "instructeur",
    "is_manager": "responsable",
    "is_collective": "compte partagé",
    "internal_note": "note interne",
    "disabled_at": "désactivation",
    "cgu_version": "version des CGU acceptée",
    "cgu_accepted_at": "date d'acceptation des CGU",
    "groups": "groupes",
    "scopes": "périmètres",
    "name": "nom du groupe",
    "organisation": "organisme",
    "areas": "départements",
    "network": "réseau",
    "short_description": "description courte",
    "public_note": "note publique",
    "bal_email": "BAL",
}


@dataclass
class EventFilters:
    user_id: UUID | None = None
    code: str = ""
    start: date | None = None
    end: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


EVENTS_FIRST_DAY = date(2000, 1, 1)
EVENTS_LAST_DAY = date(2999, 12, 31)


def parse_event_filters(params: dict[str, str]) -> EventFilters:
    filters = EventFilters()
    raw_user = (params.get("utilisateur") or "").strip()
    if raw_user:
        try:
            filters.user_id = UUID(raw_user)
        except ValueError:
            filters.errors["utilisateur"] = "Identifiant d'utilisateur invalide."
    code = (params.get("code") or "").strip()
    if code:
        if code in {e.value for e in audit.Event}:
            filters.code = code
        else:
            filters.errors["code"] = "Type d'événement inconnu."
    for name, attr in (("du", "start"), ("au", "end")):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                filters.errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
                continue
            # Day bounds become Paris datetimes, the day after included: stay far from the
            # calendar's ends (0001-01-01, 9999-12-31).
            if not EVENTS_FIRST_DAY <= day <= EVENTS_LAST_DAY:
                filters.errors[name] = (
                    f"Date hors de la période possible ({EVENTS_FIRST_DAY:%d/%m/%Y} au "
                    f"{EVENTS_LAST_DAY:%d/%m/%Y})."
                )
                continue
            setattr(filters, attr, day)
    filters.page = page_number(params.get("page"))
    return filters


async def list_events(viewer: Viewer, filters: EventFilters) -> tuple[list[dict], bool]:
    """Events about people or groups of the admin's départements, newest first."""
    people = User.select(User.id).where(people_of_admin_areas(viewer))
    groups = Group.select(Group.id).where(administered_groups(viewer))
    query = AuditEvent.select().where(
        AuditEvent.actor_id.is_in(people)
        | AuditEvent.target_user_id.is_in(people)
        | AuditEvent.target_group_id.is_in(groups)
    )
    if filters.user_id:
        query = query.where(
            (AuditEvent.actor_id == filters.user_id)
            | (AuditEvent.target_user_id == filters.user_id)
        )
    if filters.code:
        query = query.where(AuditEvent.code == filters.code)
    if filters.start:
        query = query.where(
            AuditEvent.created_at >= datetime.combine(filters.start, time(), PARIS_TZ)
        )
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), time(), PARIS_TZ)
        query = query.where(AuditEvent.created_at < end)
    rows = (
        await query.order_by(AuditEvent.created_at, AuditEvent.id, ascending=False)
        .limit(PAGE_SIZE + 1)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


# --- pre-registration of aidants -----------------------------------------------------------


@dataclass
class PreregistrationLine:
    raw: str
    email: str = ""
    status: str = ""  # new | existing | member | invalid | duplicate
    error: str = ""


def review_preregistration(text: str, existing: dict[str, UUID], members: set[UUID]) -> list:
    lines: list[PreregistrationLine] = []
    seen: set[str] = set()
    for raw in text.replace(",", "\n").replace(";", "\n").splitlines():
        if not raw.strip():
            continue
        line = PreregistrationLine(raw=raw.strip())
        try:
            line.email = normalize_email(raw)
        except ValidationError as e:
            line.status, line.error = "invalid", str(e)
        else:
            if line.email in seen:
                line.status = "duplicate"
            elif line.email in existing:
                line.status = "member" if existing[line.email] in members else "existing"
            else:
                line.status = "new"
            seen.add(line.email)
        lines.append(line)
    return lines


async def preregistration(text: str, group: Group) -> list[PreregistrationLine]:
    """The dry run: what confirming would do for each pasted line."""
    candidates = []
    for raw in text.replace(",", "\n").replace(";", "\n").splitlines():
        try:
            candidates.append(normalize_email(raw))
        except ValidationError:
            pass
    existing = (
        {
            r["email"]: r["id"]
            for r in await User.select(User.email, User.id).where(User.email.is_in(candidates))
        }
        if candidates
        else {}
    )
    members = {
        r["user"]
        for r in await Membership.select(Membership.user).where(Membership.group == group.id)
    }
    return review_preregistration(text, existing, members)


async def apply_preregistration(
    viewer: Viewer, text: str, group: Group, *, client_address: str = ""
) -> tuple[int, int]:
    """Create the new aidants and add existing accounts; (created, added)."""
    lines = await preregistration(text, group)
    created = added = 0
    async with DB.transaction():
        for line in lines:
            if line.status == "new":
                user = await create_user(line.email, helper=True, groups=[group.id])
                await audit.record(
                    audit.Event.USER_PREREGISTERED,
                    actor_id=viewer.id,
                    user_id=user.id,
                    group_id=group.id,
                    client_address=client_address,
                )
                await emails.welcome(user.email, group.name)
                created += 1
            elif line.status == "existing":
                user = await User.objects().get(User.email == line.email)
                await add_user_to_group(
                    viewer,
                    user,
                    group,
                    manager=False,
                    governs=False,
                    client_address=client_address,
                )
                added += 1
    return created, added


# --- CSV import of groups and users --------------------------------------------------------

IMPORT_COLUMNS = (
    "groupe",
    "organisme",
    "departements",
    "email",
    "prenom",
    "nom",
    "qualite",
    "telephone",
    "instructeur",
    "responsable",
)


@dataclass
class ImportLine:
    number: int
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    group_action: str = ""  # "create" | "existing"
    user_action: str = ""  # "create" | "add" | "member" | ""


def _yes(value: str) -> bool:
    return value.strip().lower() in {"oui", "o", "1", "x", "yes", "vrai"}


def import_file_text(content: bytes) -> str:
    """The text of an uploaded CSV file; anything else (a spreadsheet, a PDF…) is refused."""
    if len(content) > get_settings().max_file_bytes:
        raise ValidationError("Le fichier est trop gros pour un import.")
    if files.sniff(content) != "text/plain":
        raise ValidationError(
            "Ce fichier n'est pas un fichier CSV (texte) : dans votre tableur, choisissez "
            "« Enregistrer sous » puis le format CSV."
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252")


async def review_import(viewer: Viewer, text: str) -> tuple[list[ImportLine], str | None]:
    """Parse and check every line; nothing is written. (lines, file-level error)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], "Le fichier est vide."
    dialect_delimiter = (
        ";" if text.splitlines()[0].count(";") >= text.splitlines()[0].count(",") else ","
    )
    reader = csv.reader(io.StringIO(text), delimiter=dialect_delimiter)
    try:
        rows = list(reader)
    except csv.Error:  # a cell beyond the csv module's limit (128 kB), a stray NUL…
        return [], "Le fichier n'est pas un CSV lisible : vérifiez qu'il a été enregistré en CSV."
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("groupe", "organisme", "departements") if c not in header]
    if missing:
        return [], (
            "Colonnes manquantes : "
            + ", ".join(missing)
            + ". Colonnes attendues : "
            + ";".join(IMPORT_COLUMNS)
            + "."
        )
    lines: list[ImportLine] = []
    emails_seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        line = ImportLine(number=number, values=values)
        if not values.get("groupe"):
            line.errors.append("Nom de groupe manquant.")
        try:
            reference.organisation(values.get("organisme", "").lower())
            values["organisme"] = values["organisme"].lower()
        except KeyError:
            line.errors.append(f"Organisme inconnu : « {values.get('organisme', '')} ».")
        areas, error = parse_areas(values.get("departements", ""))
        values["areas"] = areas
        if error:
            line.errors.append(error)
        elif not can_create_group_in(viewer, areas):
            line.errors.append(
                "Département(s) hors de vos départements : "
                + ", ".join(sorted(set(areas) - viewer.admin_areas))
                + "."
            )
        if values.get("email"):
            try:
                values["email"] = normalize_email(values["email"])
            except ValidationError as e:
                line.errors.append(str(e))
            else:
                if values["email"] in emails_seen:
                    line.errors.append(
                        f"Adresse déjà présente ligne {emails_seen[values['email']]}."
                    )
                emails_seen.setdefault(values["email"], number)
            member_values, member_errors = clean_member_fields(
                {
                    "first_name": values.get("prenom", ""),
                    "last_name": values.get("nom", ""),
                    "qualite": values.get("qualite", ""),
                    "phone": values.get("telephone", ""),
                }
            )
            values.update(member_values)
            line.errors.extend(member_errors.values())
        lines.append(line)
    if not lines:
        return [], "Le fichier ne contient aucune ligne."
    # What confirming would do, with the database as it is now.
    names = {(ln.values.get("groupe"), ln.values.get("organisme")) for ln in lines}
    existing_groups = {
        (r["name"], r["organisation"]): r
        for r in await Group.select(Group.id, Group.name, Group.organisation, Group.areas).where(
            Group.name.is_in([n for n, _ in names if n] or [""])
        )
    }
    known = {
        r["email"]: r["id"]
        for r in await User.select(User.email, User.id).where(
            User.email.is_in(list(emails_seen) or [""])
        )
    }
    for line in lines:
        key = (line.values.get("groupe"), line.values.get("organisme"))
        group = existing_groups.get(key)
        facts = group and GroupFacts(group["id"], group["organisation"], tuple(group["areas"]))
        if facts and not can_add_member(viewer, facts):
            line.errors.append("Ce groupe existe hors de vos départements.")
        line.group_action = "existing" if group else "create"
        if line.values.get("email") and not line.errors:
            line.user_action = "add" if line.values["email"] in known else "create"
    return lines, None


async def apply_import(
    viewer: Viewer, text: str, *, client_address: str = ""
) -> tuple[list[ImportLine], str | None, dict[str, int]]:
    """Re-check then write everything, or nothing when any line has an error."""
    lines, error = await review_import(viewer, text)
    counts = {"groups": 0, "users": 0, "memberships": 0}
    if error or any(line.errors for line in lines):
        return lines, error or "Le fichier contient des erreurs.", counts
    groups: dict[tuple[str, str], UUID] = {}
    async with DB.transaction():
        for line in lines:
            v = line.values
            key = (v["groupe"], v["organisme"])
            if key not in groups:
                found = (
                    await Group.objects()
                    .where((Group.name == v["groupe"]) & (Group.organisation == v["organisme"]))
                    .first()
                )
                if found is None:
                    found = await create_group(
                        v["groupe"], organisation=v["organisme"], areas=v["areas"]
                    )
                    await audit.record(
                        audit.Event.GROUP_CREATED,
                        actor_id=viewer.id,
                        group_id=found.id,
                        client_address=client_address,
                    )
                    counts["groups"] += 1
                groups[key] = found.id
            group_id = groups[key]
            if not v.get("email"):
                continue
            user = await User.objects().where(User.email == v["email"]).first()
            if user is None:
                user = await create_user(
                    v["email"],
                    first_name=v["first_name"],
                    last_name=v["last_name"],
                    qualite=v["qualite"],
                    phone=v["phone"],
                    helper=is_helper_organisation(v["organisme"]),
                    instructor=_yes(v.get("instructeur", "")),
                )
                await audit.record(
                    audit.Event.USER_CREATED,
                    actor_id=viewer.id,
                    user_id=user.id,
                    group_id=group_id,
                    client_address=client_address,
                )
                await emails.welcome(user.email, v["groupe"])
                counts["users"] += 1
            # An account that existed before the import is hosted, not governed, by the group.
            await add_member(
                group_id,
                user.id,
                manager=_yes(v.get("responsable", "")),
                governs=line.user_action == "create",
            )
            counts["memberships"] += 1
        await audit.record(
            audit.Event.IMPORT_APPLIED, actor_id=viewer.id, client_address=client_address
        )
    return lines, None, counts
