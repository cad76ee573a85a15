"""Demandes: creation, answers, invitations, archiving — and the status derived from the thread."""

from __future__ import annotations

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
    Mandat,
    Membership,
    Participation,
    User,
)

# Thread entries that are answers in the product's sense (invitations, archiving do not count).
REAL_ANSWER_KINDS = frozenset({"message", "take_charge", "wrong_recipient", "usager_fields"})
STATUSES = ("new", "in_progress", "processed", "archived")


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
) -> Answer:
    """Add an entry to the thread and refresh the demande's derived state."""
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
        signature=signature,
        created_at=created_at or clock.now(),
    )
    await answer.save()
    await refresh_application(application_id)
    return answer


async def archive(application_id: UUID, by: User, usefulness: str) -> None:
    """Close the demande with the creator's usefulness answer."""
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
