"""A private exchange between instructeurs moves the demande up only in the inboxes of those who
read it: for the aidants, the order is that of the activity they can see
(docs/decisions/2026-12-02-private-activity.md)."""

from __future__ import annotations

from factories import make_application, make_group, make_user

from app import clock
from app.domain import applications
from app.tables import Application, Participation, User


def _order(soup, ids) -> list:
    """The given demandes in the order the inbox lists them."""
    rows = [tr["id"].removeprefix("demande-") for tr in soup.select("tr[id^=demande-]")]
    wanted = {str(i) for i in ids}
    return [r for r in rows if r in wanted]


async def _inbox_order(client, login, user: User, ids, tab: str = "en-cours") -> list:
    """The order of the demandes in one tab (the aidant's "En cours"; both are still unopened
    "Nouvelles" for the instructeur)."""
    await login(user)
    _, soup = await client.page(f"/demandes?onglet={tab}")
    return _order(soup, ids)


async def _two_demandes():
    fs = await make_group("france-services", name="France Services 18e")
    caf = await make_group("caf", name="CAF de Paris")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    colleague = await make_user(instructor_in=[caf])
    older = await make_application(by=aidant, to=[caf], from_group=fs, subject="Plus ancienne")
    clock.travel(60)
    newer = await make_application(by=aidant, to=[caf], from_group=fs, subject="Plus récente")
    clock.travel(60)
    # Both in progress, the newer one answered last in public.
    await applications.post_answer(older.id, instructeur, body="Pièce reçue.")
    clock.travel(60)
    await applications.post_answer(newer.id, instructeur, body="Nous regardons.")
    clock.travel(60)
    return aidant, instructeur, colleague, older, newer


async def test_a_private_answer_moves_the_demande_up_only_for_those_who_read_it(client, login):
    aidant, instructeur, _, older, newer = await _two_demandes()
    ids = [older.id, newer.id]
    assert await _inbox_order(client, login, aidant, ids) == [str(newer.id), str(older.id)]

    await applications.post_answer(
        older.id, instructeur, body="Entre nous : dossier signalé.", visibility="instructors"
    )

    # The instructeur sees the private exchange as the latest activity...
    assert await _inbox_order(client, login, instructeur, ids, "nouvelles") == [
        str(older.id),
        str(newer.id),
    ]
    # ...the aidant's inbox does not move: nothing they can read happened.
    assert await _inbox_order(client, login, aidant, ids) == [str(newer.id), str(older.id)]
    row = (
        await Application.select(Application.updated_at, Application.public_updated_at)
        .where(Application.id == older.id)
        .first()
    )
    assert row["public_updated_at"] < row["updated_at"]

    # A public answer is activity for everyone again.
    clock.travel(60)
    await applications.post_answer(older.id, instructeur, body="Votre dossier est débloqué.")
    assert await _inbox_order(client, login, aidant, ids) == [str(older.id), str(newer.id)]


async def test_the_order_follows_what_each_participant_reads_when_rights_change(client, login):
    """Joining a demande, or gaining or losing the instructeur role, sets the participant's
    sort date from what they may read now (the triggers, not only new answers)."""
    aidant, instructeur, colleague, older, newer = await _two_demandes()
    await applications.post_answer(
        older.id, instructeur, body="Entre nous.", visibility="instructors"
    )
    state = (
        await Application.select(Application.updated_at, Application.public_updated_at)
        .where(Application.id == older.id)
        .first()
    )

    async def sort_date(user: User):
        row = (
            await Participation.select(Participation.app_updated_at)
            .where((Participation.application == older.id) & (Participation.user == user.id))
            .first()
        )
        return row["app_updated_at"]

    # Invited after the private answer: an instructeur reads it, so sorts by it.
    await applications.add_users(older.id, [colleague.id], invited_by=instructeur.id)
    assert await sort_date(colleague) == state["updated_at"]
    assert await sort_date(aidant) == state["public_updated_at"]

    # Losing the instructeur role: the private answers are no longer theirs to read.
    await User.update({User.is_instructor: False}).where(User.id == colleague.id)
    assert await sort_date(colleague) == state["public_updated_at"]
    await User.update({User.is_instructor: True}).where(User.id == colleague.id)
    assert await sort_date(colleague) == state["updated_at"]
