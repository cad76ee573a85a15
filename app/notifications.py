"""Who is told about what happens on a demande (spec §6).

Recipients are chosen with the same policy rules as the pages (`can_read_application`,
`can_read_answer`), so an e-mail never goes to someone who could not open what it points to.
Each e-mail carries a link to the demande, never its content.

People who chose the daily digest (`notification_frequency = "daily"`) get the demande events
(new demande, new answer they may read, invitation) gathered in one morning e-mail instead
(`send_digest`); reminders, login links, welcome and inactivity mails, and group BALs are
never held back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from app import clock, emails, policies
from app.domain import applications, sessions
from app.policies import ApplicationFacts, Viewer
from app.settings import get_settings
from app.tables import (
    Answer,
    ApplicationGroup,
    DigestEntry,
    Group,
    Participation,
    User,
)

# Archiving and reopening are bookkeeping, not news; invitations have their own e-mail.
NOTIFIED_KINDS = applications.REAL_ANSWER_KINDS


@dataclass(frozen=True)
class Recipient:
    viewer: Viewer
    email: str
    name: str
    participation_group: UUID | None
    # "each" or "daily" (the digest).
    frequency: str = "each"


# The demande events a digest holds, with the e-mail each would otherwise be.
DIGEST_EVENTS = {
    "new_application": emails.new_application,
    "new_answer": emails.new_answer,
    "invitation": emails.invitation,
}


async def _tell(person: Recipient, event: str, application_id: UUID) -> None:
    """One demande event for one person: its own e-mail now, or a line of tomorrow's digest."""
    if person.frequency == "daily":
        await DigestEntry.insert(
            DigestEntry(
                user=person.viewer.id,
                application=application_id,
                event=event,
                created_at=clock.now(),
            )
        )
    else:
        await DIGEST_EVENTS[event](person.email, demande_url(application_id))


def demande_url(application_id: UUID) -> str:
    return f"{get_settings().base_url}/demandes/{application_id}"


async def _participants(application_id: UUID) -> dict[UUID, Recipient]:
    """Every active participant, with the facts the rules need (one query)."""
    rows = await Participation.raw(
        "SELECT u.*, p.group AS participation_group, "
        + sessions.FACTS_SQL
        + " FROM participation p JOIN app_user u ON u.id = p.user"
        " WHERE p.application = {} AND u.disabled_at IS NULL",
        application_id,
    )
    return {
        r["id"]: Recipient(
            # Someone who has not accepted the current CGU yet will do so on arrival: the
            # e-mail is how they learn there is something to open.
            viewer=sessions.viewer_from(r, r, cgu_accepted=True),
            email=r["email"],
            name=f"{r['first_name']} {r['last_name']}".strip() or r["email"],
            participation_group=r["participation_group"],
            frequency=r["notification_frequency"],
        )
        for r in rows
    }


def _colleague_groups(author: Recipient | None, author_group: UUID | None) -> set[UUID]:
    """The groups whose members count as the author's colleagues."""
    if author_group is not None:
        return {author_group}
    if author is not None:
        return set(author.viewer.group_ids)
    return set()


async def _group_bal(group_ids: Iterable[UUID]) -> list[dict]:
    group_ids = list(group_ids)
    if not group_ids:
        return []
    return await Group.select(Group.id, Group.name, Group.bal_email).where(
        Group.id.is_in(group_ids) & Group.bal_email.is_not_null()
    )


def _members_with_access(
    participants: dict[UUID, Recipient], facts: ApplicationFacts, group_id: UUID
) -> list[str]:
    """Who in the group can open the demande, for the BAL e-mail."""
    return sorted(
        p.name
        for p in participants.values()
        if group_id in p.viewer.group_ids and policies.can_read_application(p.viewer, facts)
    )


async def _groups_on(application_id: UUID) -> list[UUID]:
    return [
        r["group"]
        for r in await ApplicationGroup.select(ApplicationGroup.group).where(
            ApplicationGroup.application == application_id
        )
    ]


async def _send_to_bals(
    event: str,
    facts: ApplicationFacts,
    participants: dict[UUID, Recipient],
    group_ids: Iterable[UUID],
) -> None:
    for group in await _group_bal(group_ids):
        await emails.demande_bal(
            event,
            group["bal_email"],
            demande_url(facts.id),
            group_name=group["name"],
            members=_members_with_access(participants, facts, group["id"]),
        )


async def application_created(application_id: UUID) -> None:
    """Invited people (not the creator's own colleagues) and the BAL of each addressed group."""
    facts = await policies.application_facts(application_id)
    participants = await _participants(application_id)
    creator = participants.get(facts.creator_id)
    colleague_groups = _colleague_groups(creator, facts.creator_group_id)
    for person in participants.values():
        if person.viewer.id == facts.creator_id or person.viewer.group_ids & colleague_groups:
            continue
        if policies.can_read_application(person.viewer, facts):
            await _tell(person, "new_application", facts.id)
    await _send_to_bals("new_application_bal", facts, participants, await _groups_on(facts.id))


async def answer_posted(answer_id: UUID) -> None:
    """Everyone allowed to read the answer, except its author and the author's colleagues."""
    answer = (
        await Answer.select(
            Answer.id,
            Answer.application,
            Answer.author,
            Answer.author_group,
            Answer.visibility,
            Answer.kind,
        )
        .where(Answer.id == answer_id)
        .first()
    )
    if answer is None or answer["kind"] not in NOTIFIED_KINDS:
        return
    facts = await policies.application_facts(answer["application"])
    participants = await _participants(facts.id)
    colleague_groups = _colleague_groups(participants.get(answer["author"]), answer["author_group"])
    for person in participants.values():
        if person.viewer.id == answer["author"] or person.viewer.group_ids & colleague_groups:
            continue
        if policies.can_read_answer(person.viewer, facts, answer["visibility"]):
            await _tell(person, "new_answer", facts.id)
    # A BAL is read by people the demande does not know: it hears of public answers only.
    if answer["visibility"] == "public":
        groups = [g for g in await _groups_on(facts.id) if g not in colleague_groups]
        await _send_to_bals("new_answer_bal", facts, participants, groups)


async def invitation_sent(invitation: applications.Invitation) -> None:
    """The newly invited, and the BAL of each newly invited group."""
    facts = await policies.application_facts(invitation.answer.application)
    participants = await _participants(facts.id)
    newly = set(invitation.added_users)
    for members in invitation.added_by_group.values():
        newly.update(members)
    for user_id in newly:
        person = participants.get(user_id)
        if person and policies.can_read_application(person.viewer, facts):
            await _tell(person, "invitation", facts.id)
    new_groups = [g for g, members in invitation.added_by_group.items() if members]
    await _send_to_bals("new_application_bal", facts, participants, new_groups)


# --- jobs (app/jobs/reminders.py) ----------------------------------------------------------


async def application_late(application_id: UUID) -> int:
    """Rappel en souffrance: the instructeurs of the addressed groups who can open it."""
    facts = await policies.application_facts(application_id)
    if facts is None:
        return 0
    participants = await _participants(application_id)
    groups_on = set(await _groups_on(application_id))
    names = {
        g["id"]: g["name"]
        for g in (
            await Group.select(Group.id, Group.name).where(Group.id.is_in(list(groups_on)))
            if groups_on
            else []
        )
    }
    told = 0
    for person in participants.values():
        their_groups = person.viewer.group_ids & groups_on
        if not (person.viewer.is_instructor and their_groups):
            continue
        if not policies.can_read_application(person.viewer, facts):
            continue
        group = (
            person.participation_group
            if person.participation_group in their_groups
            else min(their_groups)
        )
        await emails.late_reminder(person.email, demande_url(facts.id), names.get(group))
        told += 1
    return told


async def experts_added(application_id: UUID, expert_ids: Iterable[UUID], cause: str) -> int:
    """The experts just added to a stalled demande (each with the link)."""
    facts = await policies.application_facts(application_id)
    participants = await _participants(application_id)
    told = 0
    for expert_id in expert_ids:
        person = participants.get(expert_id)
        if person and policies.can_read_application(person.viewer, facts):
            await emails.experts_added(person.email, demande_url(facts.id), cause)
            told += 1
    return told


async def _viewer_of(user_id: UUID) -> tuple[dict, policies.Viewer] | None:
    """An active account and its facts, as a recipient (the CGU check skipped, see above)."""
    user = await User.select().where((User.id == user_id) & User.disabled_at.is_null()).first()
    if user is None:
        return None
    return user, await sessions.build_viewer(user, cgu_accepted=True)


async def weekly_recap(creator_id: UUID, application_ids: list[UUID]) -> bool:
    """The creator's "Traitée" demandes they may archive, as links in one e-mail."""
    found = await _viewer_of(creator_id)
    if found is None:
        return False
    user, viewer = found
    facts = await policies.applications_facts(application_ids)
    urls = [
        demande_url(a)
        for a in application_ids
        if a in facts
        and facts[a].status == "processed"
        and policies.is_creator(viewer, facts[a])
        and policies.can_archive(viewer, facts[a])
    ]
    if not urls:
        return False
    await emails.weekly_recap(user["email"], urls)
    return True


def _digest_label(events: list[str]) -> str:
    parts = []
    if "new_application" in events:
        parts.append("Nouvelle demande")
    if "invitation" in events:
        parts.append("Invitation")
    answers = events.count("new_answer")
    if answers:
        parts.append(f"{answers} nouveau{'x' if answers > 1 else ''} message{'s' * (answers > 1)}")
    return ", ".join(parts)


async def send_digest(user_id: UUID) -> bool:
    """One e-mail with the demandes that had events since the last digest; none if nothing.

    The entries are taken by a DELETE in the caller's transaction, with the e-mail: two runs
    at once cannot both send them, and a failure keeps them for the next run.
    """
    taken = await DigestEntry.raw(
        'DELETE FROM digest_entry WHERE id IN (SELECT id FROM digest_entry WHERE "user" = {}'
        " FOR UPDATE SKIP LOCKED) RETURNING application, event, created_at",
        user_id,
    )
    found = await _viewer_of(user_id)
    if not taken or found is None:
        return False
    user, viewer = found
    by_application: dict[UUID, list[str]] = {}
    for row in sorted(taken, key=lambda r: r["created_at"]):
        by_application.setdefault(row["application"], []).append(row["event"])
    facts = await policies.applications_facts(list(by_application))
    # Re-checked now: an expert whose demande was archived since no longer reads it.
    items = [
        {"url": demande_url(a), "label": _digest_label(events)}
        for a, events in by_application.items()
        if a in facts and policies.can_read_application(viewer, facts[a])
    ]
    if not items:
        return False
    await emails.daily_digest(user["email"], items)
    return True


async def inactivity_reminder(user_id: UUID, step: str, disable_on) -> bool:
    """The account holder, at 4 months ("first") and 5 months ("last") without login."""
    user = (
        await User.select(User.email)
        .where((User.id == user_id) & User.disabled_at.is_null())
        .first()
    )
    if user is None:
        return False
    await emails.inactivity(step, user["email"], disable_on)
    return True
