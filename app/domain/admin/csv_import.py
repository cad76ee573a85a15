"""Admin screens, CSV import of groups and their members: review, then all or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app import emails
from app.domain import audit, files, reference
from app.domain.admin.groups import parse_areas
from app.domain.admin.journal import logged
from app.domain.groups.accounts import is_helper_organisation
from app.domain.groups.membership import clean_member_fields
from app.domain.users import add_member, create_group, create_user
from app.domain.validators import ValidationError, normalize_email
from app.piccolo_conf import DB
from app.policies import (
    GroupFacts,
    Viewer,
    can_add_member,
    can_create_group_in,
)
from app.settings import get_settings
from app.tables import (
    Group,
    User,
)

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


def _ticked(cell: str) -> bool:
    """A yes/no column of the CSV file read as a flag ("oui", "x", "1"…)."""
    return cell.strip().lower() in {"oui", "o", "1", "x", "yes", "vrai"}


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
                    await logged(
                        audit.Event.GROUP_CREATED, viewer, client_address, group_id=found.id
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
                    instructor=_ticked(v.get("instructeur", "")),
                )
                await logged(
                    audit.Event.USER_CREATED,
                    viewer,
                    client_address,
                    user_id=user.id,
                    group_id=group_id,
                )
                await emails.welcome(user.email, v["groupe"])
                counts["users"] += 1
            # An account that existed before the import is hosted, not governed, by the group.
            await add_member(
                group_id,
                user.id,
                manager=_ticked(v.get("responsable", "")),
                governs=line.user_action == "create",
            )
            counts["memberships"] += 1
        await logged(audit.Event.IMPORT_APPLIED, viewer, client_address)
    return lines, None, counts
