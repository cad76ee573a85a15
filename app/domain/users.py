"""Accounts and groups: plain async functions."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from app import clock
from app.domain.validators import normalize_email
from app.tables import Group, Membership, User


class DomainError(Exception):
    """A business rule refused the action; the message is French and shown to the user."""


async def find_user_by_email(email: str) -> User | None:
    return await User.objects().where(User.email == email.strip().lower()).first()


async def create_user(
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    qualite: str = "",
    phone: str = "",
    helper: bool = False,
    instructor: bool = False,
    expert: bool = False,
    admin: bool = False,
    admin_areas: Iterable[str] = (),
    collective: bool = False,
    groups: Iterable[UUID] = (),
    managed_groups: Iterable[UUID] = (),
    cgu_version: str | None = None,
) -> User:
    """Create an account (e-mail normalised and unique) and its memberships."""
    address = normalize_email(email)
    if await User.exists().where(User.email == address):
        raise DomainError(f"Un compte existe déjà avec l'adresse {address}.")
    user = User(
        email=address,
        first_name=first_name,
        last_name=last_name,
        qualite=qualite,
        phone=phone,
        is_helper=helper,
        is_instructor=instructor,
        is_expert=expert,
        is_admin=admin,
        admin_areas=list(admin_areas),
        is_collective=collective,
        cgu_version=cgu_version,
        cgu_accepted_at=clock.now() if cgu_version else None,
        created_at=clock.now(),
    )
    await user.save()
    managed = set(managed_groups)
    for group_id in dict.fromkeys([*groups, *managed]):
        await add_member(group_id, user.id, manager=group_id in managed)
    return user


async def add_member(
    group_id: UUID, user_id: UUID, *, manager: bool = False, governs: bool = True
) -> None:
    """Put a user in a group (idempotent; upgrades to responsable if asked).

    `governs=False` for an existing account added by its e-mail: the group hosts the person
    but does not govern the account (see `policies.governs_account`)."""
    existing = (
        await Membership.objects()
        .where((Membership.group == group_id) & (Membership.user == user_id))
        .first()
    )
    if existing is None:
        await Membership(
            group=group_id, user=user_id, is_manager=manager, governs_account=governs
        ).save()
    else:
        # Upgrades only: responsable if asked, governing if an admin governing it adds it.
        changes = {}
        if manager and not existing.is_manager:
            changes[Membership.is_manager] = True
        if governs and not existing.governs_account:
            changes[Membership.governs_account] = True
        if changes:
            await Membership.update(changes).where(Membership.id == existing.id)


async def create_group(
    name: str,
    *,
    organisation: str | None,
    areas: Iterable[str],
    short_description: str = "",
    public_note: str = "",
    bal_email: str | None = None,
    network: str = "",
) -> Group:
    group = Group(
        name=name,
        organisation=organisation,
        areas=list(areas),
        short_description=short_description,
        public_note=public_note,
        bal_email=normalize_email(bal_email) if bal_email else None,
        network=network,
    )
    await group.save()
    return group
