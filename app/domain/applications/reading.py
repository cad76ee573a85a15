"""Reading for the creation form and the demande page, in a fixed number of queries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from app.tables import (
    Answer,
    Application,
    ApplicationGroup,
    Attachment,
    Group,
    Mandat,
    Membership,
    Participation,
    User,
)

# --- reading for the forms and the demande page --------------------------------------------

# The group's organisation, its name and category (a LEFT JOIN: a group may have none).
_ORGANISATION_COLUMNS = (
    Group.organisation,
    Group.organisation.short_name.as_alias("organisation_name"),
    Group.organisation.category.as_alias("category"),
)


async def addressable_groups(area: str) -> list[dict]:
    """Groups of a département that have at least one active instructeur (spec §4.1)."""
    with_instructor = Membership.select(Membership.group).where(
        (Membership.user.is_instructor == True)  # noqa: E712 (Piccolo expression)
        & Membership.user.disabled_at.is_null()
    )
    return (
        await Group.select(
            Group.id,
            Group.name,
            Group.short_description,
            Group.public_note,
            *_ORGANISATION_COLUMNS,
        )
        .where(Group.areas.any(area) & Group.id.is_in(with_instructor))
        # Ascending, so groups without an organisation (NULL) come last.
        .order_by(Group.organisation.short_name, Group.name)
    )


async def groups_by_ids(group_ids: Iterable[UUID]) -> list[dict]:
    group_ids = list(group_ids)
    if not group_ids:
        return []
    return (
        await Group.select(
            Group.id, Group.name, Group.areas, Group.bal_email, *_ORGANISATION_COLUMNS
        )
        .where(Group.id.is_in(group_ids))
        .order_by(Group.name)
    )


async def colleagues_of(
    user_id: UUID, group_ids: Iterable[UUID], *, helpers_only: bool
) -> list[dict]:
    """Other active members of these groups (aidants only for a new demande)."""
    group_ids = list(group_ids)
    if not group_ids:
        return []
    where = (
        User.id.is_in(Membership.select(Membership.user).where(Membership.group.is_in(group_ids)))
        & (User.id != user_id)
        & User.disabled_at.is_null()
    )
    if helpers_only:
        where &= User.is_helper == True  # noqa: E712 (Piccolo expression)
    return (
        await User.select(User.id, User.first_name, User.last_name, User.email, User.qualite)
        .where(where)
        .order_by(User.last_name, User.first_name)
    )


async def find_by_creation_key(creation_key: str) -> Application | None:
    return await Application.objects().where(Application.creation_key == creation_key).first()


@dataclass
class DemandeView:
    """Everything the demande page shows, read in a fixed number of queries (no N+1)."""

    application: dict
    mandat: dict | None
    groups: list[dict]
    participants: list[dict]
    answers: list[dict]
    # Files attached at creation (answer is None); answers carry their own under "files".
    files: list[dict]


async def load_demande(application_id: UUID) -> DemandeView:
    application = (await Application.select().where(Application.id == application_id))[0]
    mandat = await Mandat.select().where(Mandat.application == application_id).first()
    groups = (
        await ApplicationGroup.select(
            ApplicationGroup.group.as_alias("id"),
            ApplicationGroup.group.name.as_alias("name"),
            ApplicationGroup.group.bal_email.as_alias("bal_email"),
            ApplicationGroup.group.organisation.short_name.as_alias("organisation_name"),
        )
        .where(ApplicationGroup.application == application_id)
        .order_by(ApplicationGroup.created_at, ApplicationGroup.group.name)
    )
    # Hand-written: the organisation shown falls back to all the person's groups (a
    # correlated string_agg); one statement of the demande page's bounded few.
    participants = await Participation.raw(
        "SELECT p.user AS id, p.is_creator, p.last_seen_at, p.created_at, p.group AS group_id,"
        " u.first_name, u.last_name, u.qualite, u.email, u.is_instructor, u.is_expert,"
        " COALESCE(g.name, (SELECT string_agg(g2.name, ', ' ORDER BY g2.name)"
        '   FROM membership m JOIN app_group g2 ON g2.id = m."group"'
        '   WHERE m."user" = u.id)) AS organisation'
        " FROM participation p JOIN app_user u ON u.id = p.user"
        " LEFT JOIN app_group g ON g.id = COALESCE(p.group,"
        "   CASE WHEN p.is_creator THEN {}::uuid END)"
        " WHERE p.application = {} ORDER BY p.is_creator DESC, p.created_at, u.last_name",
        application["creator_group"],
        application_id,
    )
    answers = (
        await Answer.select(
            *Answer.all_columns(),
            Answer.author.first_name.as_alias("first_name"),
            Answer.author.last_name.as_alias("last_name"),
            Answer.author.qualite.as_alias("qualite"),
            Answer.author_group.name.as_alias("author_group_name"),
        )
        .where(Answer.application == application_id)
        .order_by(Answer.created_at, Answer.id)
    )
    attachments = (
        await Attachment.select()
        .where(Attachment.application == application_id)
        .order_by(Attachment.created_at)
    )
    invited_users: set[UUID] = set()
    invited_groups: set[UUID] = set()
    for answer in answers:
        invited = answer["invited"] or {}
        if isinstance(invited, str):
            invited = json.loads(invited)
        answer["invited"] = invited
        invited_users.update(UUID(u) for u in invited.get("users", []))
        invited_groups.update(UUID(g) for g in invited.get("groups", []))
        for name in ("added_fields",):
            if isinstance(answer[name], str):
                answer[name] = json.loads(answer[name])
    user_names = {
        r["id"]: f"{r['first_name']} {r['last_name']}".strip()
        for r in (
            await User.select(User.id, User.first_name, User.last_name).where(
                User.id.is_in(list(invited_users))
            )
            if invited_users
            else []
        )
    }
    group_names = {g["id"]: g["name"] for g in await groups_by_ids(invited_groups)}
    files_by_answer: dict[UUID | None, list[dict]] = {}
    for attachment in attachments:
        files_by_answer.setdefault(attachment["answer"], []).append(attachment)
    for answer in answers:
        answer["files"] = files_by_answer.get(answer["id"], [])
        answer["invited_users"] = [
            user_names.get(UUID(u), "") for u in answer["invited"].get("users", [])
        ]
        answer["invited_groups"] = [
            group_names.get(UUID(g), "") for g in answer["invited"].get("groups", [])
        ]
    if isinstance(application["usager_fields"], str):
        application["usager_fields"] = json.loads(application["usager_fields"])
    return DemandeView(
        application=application,
        mandat=mandat,
        groups=groups,
        participants=participants,
        answers=answers,
        files=files_by_answer.get(None, []),
    )
