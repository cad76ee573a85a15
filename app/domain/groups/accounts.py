"""Creating several accounts at once in a group (all or nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app import emails
from app.domain import applications, audit
from app.domain.groups.membership import checked, clean_member_fields, grant_group_open_applications
from app.domain.reference import HELPER_ORGANISATIONS
from app.domain.users import create_user
from app.domain.validators import ValidationError, normalize_email
from app.piccolo_conf import DB
from app.tables import (
    Group,
    User,
)

_HELPER_ORGANISATION_CODES = frozenset(o.code for o in HELPER_ORGANISATIONS)


def is_helper_organisation(code: str | None) -> bool:
    """New accounts of such a group are aidants (France Services, mairie, CCAS…)."""
    return code is None or code in _HELPER_ORGANISATION_CODES


MAX_NEW_ROWS = 50

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
        count = len(await applications.open_applications_of_group(group.id))
        if count:
            form.confirm_count = count
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
