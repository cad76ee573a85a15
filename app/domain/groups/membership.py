"""A group's members: adding, removing, disabling, reactivating, inline edits by responsables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app import clock
from app.domain import applications, audit, sessions
from app.domain.users import DomainError, add_member
from app.domain.validators import ValidationError, normalize_email, normalize_french_phone
from app.piccolo_conf import DB
from app.policies import AccountFacts, is_last_manager
from app.tables import (
    Group,
    Membership,
    User,
)

# Fields a responsable edits on a member's row (the e-mail is for admins only, spec §5).
MEMBER_TEXT_FIELDS = ("first_name", "last_name", "qualite", "phone")
MEMBER_FLAGS = ("is_instructor", "is_manager", "is_collective")


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
    await _set_disabled(group, account, True, actor_id=actor_id, client_address=client_address)
    return "disabled"


async def reactivate_member(
    group: Group, account: AccountFacts, *, actor_id: UUID, client_address: str = ""
) -> None:
    """Reactivate a disabled account that is still in this group."""
    if not account.is_disabled:
        raise DomainError("Ce compte est déjà actif.")
    await _set_disabled(group, account, False, actor_id=actor_id, client_address=client_address)


async def _set_disabled(
    group: Group, account: AccountFacts, disabled: bool, *, actor_id: UUID, client_address: str
) -> None:
    """Disable (sessions closed at once) or reactivate an account, logged with the group."""
    await User.update({User.disabled_at: clock.now() if disabled else None}).where(
        User.id == account.id
    )
    if disabled:
        await sessions.revoke_all_sessions(account.id)
    await audit.record(
        audit.Event.USER_DISABLED if disabled else audit.Event.USER_REACTIVATED,
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
