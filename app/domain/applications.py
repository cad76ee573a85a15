"""Demandes: creation, answers, invitations, archiving — and the status derived from the thread."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from app import clock
from app.domain import business_days
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

# Thread entries that are answers in the product's sense (invitations, archiving do not count).
REAL_ANSWER_KINDS = frozenset({"message", "take_charge", "wrong_recipient", "usager_fields"})
STATUSES = ("new", "in_progress", "processed", "archived")
# How a status reads in the UI and the CSV export.
STATUS_LABELS = {
    "new": "Nouvelle",
    "in_progress": "En cours",
    "processed": "Traitée",
    "archived": "Archivée",
}
# The creator reads the status as what they have to do next (spec §4.3).
CREATOR_STATUS_LABELS = {**STATUS_LABELS, "new": "Envoyée", "processed": "À archiver"}


class WipedError(Exception):
    """The demande's personal data was erased (retention): it takes no answer any more."""

    def __init__(self, wiped_at: datetime):
        super().__init__("personal data wiped")
        self.wiped_at = wiped_at


def wiped_refusal(wiped_at: datetime) -> str:
    from app.formatting import date_fr

    return (
        f"Cette demande ne peut plus être rouverte ni recevoir de message : ses données"
        f" personnelles ont été supprimées le {date_fr(wiped_at)}, comme le prévoient les"
        " conditions d'utilisation. Créez une nouvelle demande si le blocage persiste."
    )


def status_label(status: str, is_creator: bool) -> str:
    return (CREATOR_STATUS_LABELS if is_creator else STATUS_LABELS)[status]


@dataclass(frozen=True)
class ThreadEntry:
    """The few facts of an answer the status depends on."""

    author_id: UUID
    kind: str
    created_at: datetime
    marks_processed: bool = False
    marks_irrelevant: bool = False


@dataclass(frozen=True)
class DerivedState:
    status: str
    first_answer_at: datetime | None
    last_answer_at: datetime | None
    processed_at: datetime | None
    archived_at: datetime | None
    is_irrelevant: bool
    answers_count: int
    updated_at: datetime


def derive_state(
    creator_id: UUID, created_at: datetime, thread: Sequence[ThreadEntry]
) -> DerivedState:
    """Spec §4.3: status is read from the thread, never typed by hand."""
    first_answer_at = last_answer_at = processed_at = archived_at = None
    last_real: ThreadEntry | None = None
    archived = False
    count = 0
    for entry in thread:
        if entry.kind == "archive":
            archived, archived_at = True, entry.created_at
        elif entry.kind == "reopen":
            archived, archived_at = False, None
        elif entry.kind in REAL_ANSWER_KINDS:
            count += 1
            last_real = entry
            if entry.author_id == creator_id:
                # A message from the creator reopens an archived demande.
                archived, archived_at = False, None
            else:
                first_answer_at = first_answer_at or entry.created_at
                last_answer_at = entry.created_at
            processed_at = entry.created_at if entry.marks_processed else None
    if archived:
        status = "archived"
    elif last_real is not None and last_real.marks_processed:
        status = "processed"
    elif first_answer_at is not None:
        status = "in_progress"
    else:
        status = "new"
    return DerivedState(
        status=status,
        first_answer_at=first_answer_at,
        last_answer_at=last_answer_at,
        processed_at=processed_at,
        archived_at=archived_at,
        is_irrelevant=any(e.marks_irrelevant for e in thread),
        answers_count=count,
        updated_at=thread[-1].created_at if thread else created_at,
    )


async def refresh_application(application_id: UUID) -> DerivedState:
    """Recompute the cached status and timings of a demande from its thread (2 queries)."""
    rows = await Application.raw(
        "SELECT a.creator, a.created_at, a.area, t.author, t.kind, t.created_at AS at,"
        " t.marks_processed, t.marks_irrelevant FROM application a"
        " LEFT JOIN answer t ON t.application = a.id WHERE a.id = {}"
        " ORDER BY t.created_at, t.id",
        application_id,
    )
    first = rows[0]
    thread = [
        ThreadEntry(r["author"], r["kind"], r["at"], r["marks_processed"], r["marks_irrelevant"])
        for r in rows
        if r["kind"] is not None
    ]
    state = derive_state(first["creator"], first["created_at"], thread)
    late = None
    if state.status in ("new", "in_progress"):
        late = business_days.late_at(first["created_at"], state.last_answer_at, first["area"])
    await Application.update(
        {
            Application.status: state.status,
            Application.first_answer_at: state.first_answer_at,
            Application.last_answer_at: state.last_answer_at,
            Application.processed_at: state.processed_at,
            Application.archived_at: state.archived_at,
            Application.is_irrelevant: state.is_irrelevant,
            Application.answers_count: state.answers_count,
            Application.updated_at: state.updated_at,
            Application.late_at: late,
        }
    ).where(Application.id == application_id)
    return state


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
    if added:
        await Participation.insert(
            *[
                Participation(
                    application=application_id,
                    user=u,
                    group=group_id,
                    invited_by=invited_by,
                    via_answer=via_answer,
                    created_at=clock.now(),
                )
                for u in added
            ]
        )
    return added


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


async def create_application(
    *,
    creator: User,
    creator_group: UUID | None,
    area: str,
    subject: str,
    usager_first_name: str,
    usager_last_name: str,
    usager_birth_date: date | None,
    description: str,
    groups: Sequence[UUID],
    usager_fields: Sequence[dict] = (),
    colleagues: Sequence[UUID] = (),
    mandat_kind: str = "paper",
    mandat_date: date | None = None,
    signature: str = "",
    creation_key: str | None = None,
    created_at: datetime | None = None,
) -> Application:
    """Create a demande: the creator, the ticked groups' instructeurs and colleagues join."""
    if creation_key:
        existing = (
            await Application.objects().where(Application.creation_key == creation_key).first()
        )
        if existing is not None:
            return existing
    now = created_at or clock.now()
    application = Application(
        creator=creator.id,
        creator_group=creator_group,
        area=area,
        creation_key=creation_key,
        subject=subject,
        usager_first_name=usager_first_name,
        usager_last_name=usager_last_name,
        usager_birth_date=usager_birth_date,
        usager_fields=list(usager_fields),
        description=description,
        signature=signature,
        status="new",
        created_at=now,
        updated_at=now,
        late_at=business_days.late_at(now, None, area),
    )
    await application.save()
    await Participation(
        application=application.id,
        user=creator.id,
        is_creator=True,
        group=creator_group,
        created_at=now,
        last_seen_at=now,
    ).save()
    await Mandat(
        application=application.id, kind=mandat_kind, obtained_on=mandat_date or now.date()
    ).save()
    await add_groups(application.id, groups, invited_by=creator.id)
    await add_users(application.id, colleagues, invited_by=creator.id)
    return application


async def post_answer(
    application_id: UUID,
    author: User,
    *,
    body: str = "",
    kind: str = "message",
    visibility: str = "public",
    marks_processed: bool = False,
    marks_irrelevant: bool = False,
    added_fields: Sequence[dict] = (),
    author_group: UUID | None = None,
    signature: str = "",
    created_at: datetime | None = None,
    invited: dict | None = None,
) -> Answer:
    """Add an entry to the thread and refresh the demande's derived state."""
    # The row lock orders this against the retention job: once it committed a wipe, nothing
    # (no message, no reopening) brings the demande back to life.
    locked = await Application.raw(
        "SELECT personal_data_wiped_at FROM application WHERE id = {} FOR UPDATE", application_id
    )
    if locked and locked[0]["personal_data_wiped_at"] is not None:
        raise WipedError(locked[0]["personal_data_wiped_at"])
    answer = Answer(
        application=application_id,
        author=author.id,
        author_group=author_group,
        kind=kind,
        visibility=visibility,
        body=body,
        marks_processed=marks_processed,
        marks_irrelevant=marks_irrelevant,
        added_fields=list(added_fields),
        invited=invited or {},
        signature=signature,
        created_at=created_at or clock.now(),
    )
    await answer.save()
    await refresh_application(application_id)
    return answer


async def archive(application_id: UUID, by: User, usefulness: str | None) -> None:
    """Close the demande with the creator's usefulness answer (None: an admin closing it)."""
    if usefulness is not None:
        await Application.update({Application.usefulness: usefulness}).where(
            Application.id == application_id
        )
    await post_answer(application_id, by, kind="archive")


async def reopen(application_id: UUID, by: User) -> None:
    await post_answer(application_id, by, kind="reopen")


async def mark_seen(application_id: UUID, user_id: UUID) -> None:
    await Participation.update({Participation.last_seen_at: clock.now()}).where(
        (Participation.application == application_id) & (Participation.user == user_id)
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


@dataclass(frozen=True)
class Invitation:
    answer: Answer
    # Users who were not on the demande before, individually and through each group.
    added_users: list[UUID]
    added_by_group: dict[UUID, list[UUID]]


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


async def add_experts_automatically(application_id: UUID) -> list[UUID]:
    """Bring the experts onto a stalled demande, with a thread entry saying so.

    The entry is authored by the first expert added (an entry needs an author) and reads as
    the team's; it is not an answer, so the demande's délais are unchanged. Returns the
    experts added (none: nothing is written).
    """
    experts = await experts_not_on(application_id)
    if not experts:
        return []
    author = await User.objects().where(User.id == experts[0]).first()
    answer = await post_answer(
        application_id, author, kind="experts_added", invited={"experts": True}
    )
    return await add_users(application_id, experts, invited_by=None, via_answer=answer.id)


async def invite(
    application_id: UUID,
    by: User,
    *,
    user_ids: Sequence[UUID] = (),
    group_ids: Sequence[UUID] = (),
    body: str = "",
    visibility: str = "public",
    author_group: UUID | None = None,
    signature: str = "",
    experts: bool = False,
) -> Invitation:
    """Bring colleagues, whole groups or the experts in; the thread keeps who invited whom."""
    expert_ids = await experts_not_on(application_id) if experts else []
    answer = await post_answer(
        application_id,
        by,
        kind="invitation",
        body=body,
        visibility=visibility,
        author_group=author_group,
        signature=signature,
        invited={
            "users": [str(u) for u in user_ids],
            "groups": [str(g) for g in group_ids],
            **({"experts": True} if experts else {}),
        },
    )
    added_users = await add_users(
        application_id, [*user_ids, *expert_ids], invited_by=by.id, via_answer=answer.id
    )
    added_by_group = await add_groups(
        application_id, group_ids, invited_by=by.id, via_answer=answer.id
    )
    return Invitation(answer, added_users, added_by_group)


def _open_applications_to_grant_sql() -> str:
    return (
        "SELECT a.id FROM application a JOIN application_group ag ON ag.application = a.id"
        " WHERE ag.group = {} AND a.status <> 'archived'"
        " AND NOT EXISTS (SELECT 1 FROM participation p"
        "   WHERE p.application = a.id AND p.user = {})"
        " ORDER BY a.created_at"
    )


async def open_applications_of_group(group_id: UUID, *, not_on: UUID | None = None) -> list[UUID]:
    """Open demandes addressed to a group (optionally those a given user is not on yet)."""
    rows = await Application.raw(_open_applications_to_grant_sql(), group_id, not_on)
    return [r["id"] for r in rows]


async def grant_open_applications_to_new_instructor(
    group_id: UUID, user_id: UUID, *, invited_by: UUID | None = None
) -> list[UUID]:
    """Spec §4.2: a new instructeur of a group silently joins the group's open demandes.

    Returns the demandes actually given (those the user was not already on); two queries.
    """
    given = await open_applications_of_group(group_id, not_on=user_id)
    if given:
        now = clock.now()
        await Participation.insert(
            *[
                Participation(
                    application=application_id,
                    user=user_id,
                    group=group_id,
                    invited_by=invited_by,
                    created_at=now,
                )
                for application_id in given
            ]
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
