"""Admin screens, groups: list, create, edit, delete within the admin's départements."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.query.functions.aggregate import Count

from app.domain import audit, reference
from app.domain.admin.journal import logged
from app.domain.groups.texts import clean_group_texts, save_group_changes
from app.domain.users import create_group
from app.policies import (
    Viewer,
    administered_groups,
    can_create_group_in,
    can_set_group_areas,
)
from app.tables import (
    Application,
    ApplicationGroup,
    Group,
    Membership,
)


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
            for r in await Membership.select(Membership.group, Count(alias="n"))
            .where(Membership.group.is_in([r["id"] for r in rows]))
            .group_by(Membership.group)
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
        await logged(audit.Event.GROUP_CREATED, viewer, client_address, group_id=group.id)
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
    await logged(audit.Event.GROUP_DELETED, viewer, client_address, group_id=group.id)
    return None
