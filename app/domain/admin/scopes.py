"""Admin screens, scopes of area managers and observers (the CLI grants national ones)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.domain import audit, reference
from app.domain.admin.journal import logged
from app.policies import (
    Viewer,
    can_grant_scope,
)
from app.tables import (
    ManagerScope,
    User,
)

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
    await logged(
        audit.Event.SCOPE_GRANTED, viewer, client_address, user_id=user.id, fields=["scopes"]
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
    await logged(
        audit.Event.SCOPE_REMOVED, viewer, client_address, user_id=user.id, fields=["scopes"]
    )
    return None
