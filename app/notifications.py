"""Who is told about what happens on a demande (spec §6).

Recipients are chosen with the same policy rules as the pages (`can_read_application`,
`can_read_answer`), so an e-mail never goes to someone who could not open what it points to.
Each e-mail carries a link to the demande, never its content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from app import emails, policies
from app.domain import applications
from app.policies import ApplicationFacts, Viewer
from app.settings import get_settings
from app.tables import Answer, ApplicationGroup, Group, Membership, Participation

# Archiving and reopening are bookkeeping, not news; invitations have their own e-mail.
NOTIFIED_KINDS = applications.REAL_ANSWER_KINDS


@dataclass(frozen=True)
class Recipient:
    viewer: Viewer
    email: str
    name: str
    participation_group: UUID | None


def demande_url(application_id: UUID) -> str:
    return f"{get_settings().base_url}/demandes/{application_id}"


async def _participants(application_id: UUID) -> dict[UUID, Recipient]:
    """Every active participant, with the facts the rules need (two queries)."""
    rows = await Participation.raw(
        "SELECT u.id, u.email, u.first_name, u.last_name, u.is_helper, u.is_instructor,"
        " u.is_expert, u.is_admin, u.is_collective, u.admin_areas, p.group AS participation_group"
        " FROM participation p JOIN app_user u ON u.id = p.user"
        " WHERE p.application = {} AND u.disabled_at IS NULL",
        application_id,
    )
    if not rows:
        return {}
    memberships = await Membership.select(
        Membership.user, Membership.group, Membership.is_manager
    ).where(Membership.user.is_in([r["id"] for r in rows]))
    groups: dict[UUID, set[UUID]] = {}
    managed: dict[UUID, set[UUID]] = {}
    for m in memberships:
        groups.setdefault(m["user"], set()).add(m["group"])
        if m["is_manager"]:
            managed.setdefault(m["user"], set()).add(m["group"])
    result = {}
    for r in rows:
        viewer = Viewer(
            id=r["id"],
            is_helper=r["is_helper"],
            is_instructor=r["is_instructor"],
            is_expert=r["is_expert"],
            is_admin=r["is_admin"],
            is_collective=r["is_collective"],
            # Someone who has not accepted the current CGU yet will do so on arrival: the
            # e-mail is how they learn there is something to open.
            has_accepted_cgu=True,
            admin_areas=frozenset(r["admin_areas"] or []),
            group_ids=frozenset(groups.get(r["id"], set())),
            managed_group_ids=frozenset(managed.get(r["id"], set())),
        )
        result[r["id"]] = Recipient(
            viewer=viewer,
            email=r["email"],
            name=f"{r['first_name']} {r['last_name']}".strip() or r["email"],
            participation_group=r["participation_group"],
        )
    return result


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
            await emails.new_application(person.email, demande_url(facts.id))
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
            await emails.new_answer(person.email, demande_url(facts.id))
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
            await emails.invitation(person.email, demande_url(facts.id))
    new_groups = [g for g, members in invitation.added_by_group.items() if members]
    await _send_to_bals("new_application_bal", facts, participants, new_groups)
