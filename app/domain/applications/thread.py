"""Writing a demande: creation, answers, archiving, invitations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from piccolo.querystring import QueryString

from app import clock
from app.domain import business_days
from app.domain.applications.participants import add_groups, add_users, experts_not_on
from app.domain.applications.state import WipedError, refresh_application
from app.tables import (
    Answer,
    Application,
    Mandat,
    Participation,
    User,
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
        public_updated_at=now,
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
    locked = (
        await Application.select(Application.personal_data_wiped_at)
        .where(Application.id == application_id)
        .lock_rows()
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


def seen_mark_moved(application_id: UUID, user_id: UUID, now: datetime) -> QueryString:
    """The statement that moves a reader's seen mark to `now` when that changes something.

    The mark drives the participants list ("Vue le …", to the minute) and the inbox (never
    opened, unread entries of others): it moves when it was never set, when it shows another
    minute, or when someone else wrote after it. Otherwise it stays, so reloading the demande
    writes no participation row (docs/decisions/2026-12-02-demande-page-cost.md). Hand-written
    so it can ride in the page's read statement (`load_demande(writes=…)`).
    """
    return QueryString(
        'UPDATE participation p SET last_seen_at = {} WHERE p.application = {} AND p."user" = {}'
        " AND (p.last_seen_at IS NULL"
        " OR date_trunc('minute', p.last_seen_at) <> date_trunc('minute', {}::timestamptz)"
        " OR EXISTS (SELECT 1 FROM answer t WHERE t.application = p.application"
        ' AND t.author <> p."user" AND t.created_at > p.last_seen_at))',
        now,
        application_id,
        user_id,
        now,
    )


@dataclass(frozen=True)
class Invitation:
    answer: Answer
    # Users who were not on the demande before, individually and through each group.
    added_users: list[UUID]
    added_by_group: dict[UUID, list[UUID]]


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
