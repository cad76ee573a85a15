"""Admin screens, accounts: list, edit, delete, add to or remove from a group."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app import clock
from app.domain import applications, audit, sessions
from app.domain.admin.journal import logged
from app.domain.groups.membership import checked, clean_member_fields
from app.domain.users import add_member
from app.domain.validators import ValidationError, normalize_email
from app.piccolo_conf import DB
from app.policies import (
    Viewer,
    administered_users,
)
from app.tables import (
    Group,
    Membership,
    User,
)

PAGE_SIZE = 50


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
    return (
        await Membership.select(
            Membership.id,
            Membership.is_manager,
            Membership.group.as_alias("group_id"),
            Membership.group.name.as_alias("name"),
        )
        .where(Membership.user == user_id)
        .order_by(Membership.group.name)
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
            await logged(
                audit.Event.USER_EMAIL_CHANGED,
                viewer,
                client_address,
                user_id=user.id,
                fields=["email"],
            )
        if User.disabled_at in changes:
            code = audit.Event.USER_DISABLED if values["disabled"] else audit.Event.USER_REACTIVATED
            await logged(code, viewer, client_address, user_id=user.id, fields=["disabled_at"])
        if values.get("is_instructor") and not user.is_instructor:
            # Spec §4.2: a new instructeur reads their groups' open demandes. The admin saw
            # the count on the user page; unlike a responsable, no extra confirmation step.
            for membership in await user_memberships(user.id):
                await applications.grant_open_applications_to_new_instructor(
                    membership["group_id"], user.id, invited_by=viewer.id
                )
        if changes:
            await logged(
                audit.Event.USER_UPDATED,
                viewer,
                client_address,
                user_id=user.id,
                fields=[column._meta.name for column in changes],
            )
    return errors


async def delete_user(viewer: Viewer, user: User, *, client_address: str = "") -> None:
    """`policies.can_delete_user` (checked by the route guard): never used, not admin/expert."""
    await User.delete().where(User.id == user.id)
    await logged(audit.Event.USER_DELETED, viewer, client_address, user_id=user.id)


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
    await logged(
        audit.Event.MEMBER_ADDED,
        viewer,
        client_address,
        user_id=user.id,
        group_id=group.id,
        fields=["groups", "is_manager"] if manager else ["groups"],
    )


async def remove_user_from_group(
    viewer: Viewer, user: User, group: Group, *, client_address: str = ""
) -> None:
    await Membership.delete().where((Membership.user == user.id) & (Membership.group == group.id))
    await logged(
        audit.Event.MEMBER_REMOVED,
        viewer,
        client_address,
        user_id=user.id,
        group_id=group.id,
        fields=["groups"],
    )
