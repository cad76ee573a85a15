"""The group's texts, checked alike on the group page and the admin's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from app.domain import audit
from app.domain.validators import ValidationError, normalize_email
from app.tables import (
    Group,
)

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
