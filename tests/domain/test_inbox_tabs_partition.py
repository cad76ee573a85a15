"""The instructeur's "Nouvelles" and "En cours" never contradict each other: every open demande
that is not yet processed is in exactly one of the two, at every step of its life, for every
person on it (docs/decisions/2026-11-22-inbox-tabs.md, "Nouvelles and En cours")."""

from __future__ import annotations

from factories import make_application, make_group, make_user

from app.domain import applications, inbox, sessions
from app.tables import User

PAIR = {"nouvelles", "en-cours"}


async def tabs_holding(user, application_id) -> set[str]:
    viewer = await sessions.build_viewer(await User.select().where(User.id == user.id).first())
    held = set()
    for tab in inbox.tabs_for(viewer):
        page = await inbox.load_page(viewer, tab_key=tab.key)
        if application_id in [r.id for r in page.rows]:
            held.add(tab.key)
        # The counts say the same as the lists.
        assert dict((t.key, n) for t, n in page.tabs)[tab.key] == len(page.rows)
    return held


async def test_open_demandes_are_in_exactly_one_of_nouvelles_and_en_cours(db):
    caf = await make_group("caf")
    fs = await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    agent = await make_user(instructor_in=[caf])
    colleague = await make_user(instructor_in=[caf])
    # An instructeur who is also an aidant and creates the demande (instructeur tabs, creator).
    both = await make_user(helper_in=[fs], instructor_in=[caf])
    people = [aidant, agent, colleague, both]
    app = await make_application(by=both, to=[caf], from_group=fs)
    await applications.invite(app.id, both, user_ids=[aidant.id], group_ids=[], body="")

    async def check(step: str) -> None:
        for person in people:
            held = await tabs_holding(person, app.id) & PAIR
            assert len(held) == 1, f"{step}: {person.email} sees it in {held or 'neither'}"

    await check("just sent")
    await applications.mark_seen(app.id, agent.id)
    await check("opened, unanswered")
    await applications.post_answer(app.id, agent, body="Je regarde.")
    await check("answered by an instructeur")
    await applications.mark_seen(app.id, colleague.id)
    await check("a colleague opened it")
    await applications.post_answer(app.id, aidant, body="Merci.")
    await check("the aidant answered")
    # Processed: out of both, into Traitées (aidants keep it in En cours: "À archiver").
    await applications.post_answer(app.id, agent, body="Fait.", marks_processed=True)
    assert await tabs_holding(agent, app.id) == {"traitees"}
    assert await tabs_holding(aidant, app.id) & PAIR == {"en-cours"}
