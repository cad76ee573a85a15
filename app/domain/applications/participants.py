"""Who is on a demande: addressed groups' instructeurs, colleagues, experts (spec §4.2)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from app import clock
from app.tables import (
    Application,
    ApplicationGroup,
    Membership,
    Participation,
    User,
)


async def active_instructor_ids(group_ids: Iterable[UUID]) -> dict[UUID, list[UUID]]:
    """Active instructeurs of each group (one query)."""
    group_ids = list(group_ids)
    if not group_ids:
        return {}
    rows = await Membership.select(Membership.group, Membership.user).where(
        Membership.group.is_in(group_ids)
        & (Membership.user.is_instructor == True)  # noqa: E712 (Piccolo expression)
        & Membership.user.disabled_at.is_null()
    )
    result: dict[UUID, list[UUID]] = {g: [] for g in group_ids}
    for row in rows:
        result[row["group"]].append(row["user"])
    return result


async def _add_participants(
    application_id: UUID,
    user_ids: Iterable[UUID],
    *,
    group_id: UUID | None,
    invited_by: UUID | None,
    via_answer: UUID | None,
) -> list[UUID]:
    """Add people not yet on the demande; returns the ones actually added."""
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return []
    existing = {
        r["user"]
        for r in await Participation.select(Participation.user).where(
            (Participation.application == application_id) & Participation.user.is_in(user_ids)
        )
    }
    added = [u for u in user_ids if u not in existing]
    await _insert_participations(
        [(application_id, u) for u in added],
        group_id=group_id,
        invited_by=invited_by,
        via_answer=via_answer,
    )
    return added


async def _insert_participations(
    pairs: list[tuple[UUID, UUID]],
    *,
    group_id: UUID | None,
    invited_by: UUID | None,
    via_answer: UUID | None = None,
) -> None:
    """One statement for every (demande, person) pair; nothing when there is none."""
    if not pairs:
        return
    now = clock.now()
    await Participation.insert(
        *[
            Participation(
                application=application_id,
                user=user_id,
                group=group_id,
                invited_by=invited_by,
                via_answer=via_answer,
                created_at=now,
            )
            for application_id, user_id in pairs
        ]
    )


async def add_groups(
    application_id: UUID,
    group_ids: Iterable[UUID],
    *,
    invited_by: UUID | None,
    via_answer: UUID | None = None,
) -> dict[UUID, list[UUID]]:
    """Address groups: all their active instructeurs join. Returns added users per group."""
    group_ids = list(dict.fromkeys(group_ids))
    already = {
        r["group"]
        for r in await ApplicationGroup.select(ApplicationGroup.group).where(
            ApplicationGroup.application == application_id
        )
    }
    new_groups = [g for g in group_ids if g not in already]
    if new_groups:
        await ApplicationGroup.insert(
            *[
                ApplicationGroup(
                    application=application_id,
                    group=g,
                    invited_by=invited_by,
                    created_at=clock.now(),
                )
                for g in new_groups
            ]
        )
    instructors = await active_instructor_ids(group_ids)
    added = {}
    for group_id in group_ids:
        added[group_id] = await _add_participants(
            application_id,
            instructors.get(group_id, []),
            group_id=group_id,
            invited_by=invited_by,
            via_answer=via_answer,
        )
    return added


async def add_users(
    application_id: UUID,
    user_ids: Iterable[UUID],
    *,
    invited_by: UUID | None,
    via_answer: UUID | None = None,
) -> list[UUID]:
    return await _add_participants(
        application_id, user_ids, group_id=None, invited_by=invited_by, via_answer=via_answer
    )


async def active_expert_ids() -> list[UUID]:
    """The Administration+ team members flagged experts (CGU 1.3.4: three of them)."""
    rows = (
        await User.select(User.id)
        .where((User.is_expert == True) & User.disabled_at.is_null())  # noqa: E712
        .order_by(User.created_at)
    )
    return [r["id"] for r in rows]


async def experts_not_on(application_id: UUID) -> list[UUID]:
    """Active experts not yet on the demande (what inviting "the experts" would add)."""
    experts = await active_expert_ids()
    if not experts:
        return []
    on = {
        r["user"]
        for r in await Participation.select(Participation.user).where(
            (Participation.application == application_id) & Participation.user.is_in(experts)
        )
    }
    return [e for e in experts if e not in on]


async def open_applications_of_group(group_id: UUID, *, not_on: UUID | None = None) -> list[UUID]:
    """Open demandes addressed to a group (optionally those a given user is not on yet)."""
    where = (Application.status != "archived") & Application.id.is_in(
        ApplicationGroup.select(ApplicationGroup.application).where(
            ApplicationGroup.group == group_id
        )
    )
    if not_on is not None:
        where &= Application.id.not_in(
            Participation.select(Participation.application).where(Participation.user == not_on)
        )
    rows = await Application.select(Application.id).where(where).order_by(Application.created_at)
    return [r["id"] for r in rows]


async def grant_open_applications_to_new_instructor(
    group_id: UUID, user_id: UUID, *, invited_by: UUID | None = None
) -> list[UUID]:
    """Spec §4.2: a new instructeur of a group silently joins the group's open demandes.

    Returns the demandes actually given (those the user was not already on); two queries.
    """
    given = await open_applications_of_group(group_id, not_on=user_id)
    await _insert_participations(
        [(application_id, user_id) for application_id in given],
        group_id=group_id,
        invited_by=invited_by,
    )
    return given


async def load_participation_group(application_id: UUID, user_id: UUID) -> UUID | None:
    """The group through which a user is on a demande, if any."""
    row = (
        await Participation.select(Participation.group)
        .where((Participation.application == application_id) & (Participation.user == user_id))
        .first()
    )
    return row["group"] if row else None
