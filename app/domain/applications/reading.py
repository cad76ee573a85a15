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
    Participation,
    User,
)

# --- reading for the forms and the demande page --------------------------------------------


async def addressable_groups(area: str) -> list[dict]:
    """Groups of a département that have at least one active instructeur (spec §4.1)."""
    return await Group.raw(
        "SELECT g.id, g.name, g.short_description, g.public_note, g.organisation,"
        " o.short_name AS organisation_name, o.category"
        " FROM app_group g LEFT JOIN organisation o ON o.code = g.organisation"
        " WHERE {} = ANY(g.areas) AND EXISTS (SELECT 1 FROM membership m"
        ' JOIN app_user u ON u.id = m."user" WHERE m."group" = g.id'
        " AND u.is_instructor AND u.disabled_at IS NULL)"
        " ORDER BY o.short_name NULLS LAST, g.name",
        area,
    )


async def groups_by_ids(group_ids: Iterable[UUID]) -> list[dict]:
    group_ids = list(group_ids)
    if not group_ids:
        return []
    return await Group.raw(
        "SELECT g.id, g.name, g.areas, g.organisation, g.bal_email,"
        " o.short_name AS organisation_name, o.category"
        " FROM app_group g LEFT JOIN organisation o ON o.code = g.organisation"
        " WHERE g.id = ANY({}) ORDER BY g.name",
        group_ids,
    )


async def colleagues_of(
    user_id: UUID, group_ids: Iterable[UUID], *, helpers_only: bool
) -> list[dict]:
    """Other active members of these groups (aidants only for a new demande)."""
    group_ids = list(group_ids)
    if not group_ids:
        return []
    return await User.raw(
        "SELECT DISTINCT u.id, u.first_name, u.last_name, u.email, u.qualite"
        ' FROM membership m JOIN app_user u ON u.id = m."user"'
        ' WHERE m."group" = ANY({}) AND u.id <> {} AND u.disabled_at IS NULL'
        " AND (u.is_helper OR NOT {}) ORDER BY u.last_name, u.first_name",
        group_ids,
        user_id,
        helpers_only,
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
    groups = await ApplicationGroup.raw(
        "SELECT g.id, g.name, g.bal_email, o.short_name AS organisation_name"
        " FROM application_group ag JOIN app_group g ON g.id = ag.group"
        " LEFT JOIN organisation o ON o.code = g.organisation"
        " WHERE ag.application = {} ORDER BY ag.created_at, g.name",
        application_id,
    )
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
    answers = await Answer.raw(
        "SELECT t.*, u.first_name, u.last_name, u.qualite, g.name AS author_group_name"
        " FROM answer t JOIN app_user u ON u.id = t.author"
        " LEFT JOIN app_group g ON g.id = t.author_group"
        " WHERE t.application = {} ORDER BY t.created_at, t.id",
        application_id,
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
