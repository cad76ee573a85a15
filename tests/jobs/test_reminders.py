"""Late demandes and stalled ones, driven by the test clock through the real cron schedules,
a real SAQ worker and the real SMTP sink."""

from __future__ import annotations

from bs4 import BeautifulSoup
from factories import make_application, make_user
from support.jobs import paris, set_clock

from app.domain import applications, business_days
from app.tables import Answer, Application, Participation, ReminderMark

pytest_plugins = ["support.demandes", "support.jobs"]

# Thursday 30 April 2026, before Friday 1 May (a holiday) and a weekend.
CREATED = paris(2026, 4, 30, 10, 3)


async def _late_demande(world):
    set_clock(CREATED)
    return await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)


def _assert_link_only(message, application) -> None:
    assert message.subject.startswith("[A+] ")
    assert f"http://testserver/demandes/{application.id}" in message.links
    assert f'href="http://testserver/demandes/{application.id}"' in message.html
    for secret in ("Élodie", "Dupont", "Prestation suspendue", "Description de la situation"):
        assert secret not in message.text and secret not in message.html


async def test_late_reminder_after_three_business_days_across_a_holiday_and_a_weekend(
    world, mailbox, tick
):
    application = await _late_demande(world)
    await tick(paris(2026, 4, 30, 10, 10))
    mailbox.messages.clear()  # the new-demande e-mails

    # Three calendar days (Sunday), then three days with the weekend but not the holiday
    # skipped (Tuesday): not late yet. Late on Wednesday 6 May at 10:03.
    for moment in (
        paris(2026, 5, 3, 10, 10),
        paris(2026, 5, 4, 10, 10),
        paris(2026, 5, 5, 10, 10),
        paris(2026, 5, 6, 10, 0),
    ):
        assert "remind_late" in await tick(moment)
        assert mailbox.messages == [], moment
    await tick(paris(2026, 5, 6, 10, 10))

    told = sorted(m.to[0] for m in mailbox.messages)
    assert told == ["agent1@caf.fr", "agent2@caf.fr"]  # not the aidant, not the other groups
    for message in mailbox.messages:
        assert "attend une réponse" in message.subject
        assert "CAF de Paris" in message.text
        _assert_link_only(message, application)

    # Once per crossing, whatever the number of runs.
    mailbox.messages.clear()
    await tick(paris(2026, 5, 6, 10, 20))
    await tick(paris(2026, 5, 7, 10, 20))
    assert mailbox.messages == []

    # An answer starts a new délai (15 business days); its crossing mails again.
    set_clock(paris(2026, 5, 7, 11, 0))
    await applications.post_answer(application.id, world.caf_agent, body="Je regarde.")
    late_again = business_days.late_at(paris(2026, 5, 7, 11, 0), paris(2026, 5, 7, 11, 0), "75")
    # Skipping 8, 14 and 25 May: Tuesday 2 June.
    assert late_again == paris(2026, 6, 2, 11, 0)
    await tick(paris(2026, 6, 1, 11, 10))
    assert mailbox.messages == []
    await tick(paris(2026, 6, 2, 11, 10))
    assert sorted(m.to[0] for m in mailbox.messages) == ["agent1@caf.fr", "agent2@caf.fr"]


async def test_a_demande_answered_before_the_run_is_not_reminded(world, mailbox, tick):
    application = await _late_demande(world)
    set_clock(paris(2026, 5, 6, 10, 5))
    # Answered just after late_at, before the job ran: no longer late.
    await applications.post_answer(application.id, world.caf_agent, body="Je regarde.")
    mailbox.messages.clear()
    await tick(paris(2026, 5, 6, 10, 10))
    assert mailbox.messages == []


async def _experts(n: int = 2):
    return [
        await make_user(email=f"expert{i}@aplus.fr", expert=True, first_name=f"Expert{i}")
        for i in range(n)
    ]


async def test_experts_are_added_after_five_business_days_without_an_answer(
    world, mailbox, tick, client, login
):
    experts = await _experts()
    application = await _late_demande(world)
    # The creator writing again is no answer.
    await applications.post_answer(application.id, world.aidant, body="Des nouvelles ?")
    mailbox.messages.clear()

    # Five calendar days (Tuesday 5), or without the 8 May holiday (Thursday 7): too early.
    for moment in (paris(2026, 5, 5, 10, 15), paris(2026, 5, 7, 10, 15), paris(2026, 5, 11, 9, 55)):
        assert "add_experts" in await tick(moment)
        assert not await Participation.exists().where(Participation.user == experts[0].id)
    await tick(paris(2026, 5, 11, 10, 5))

    on = {
        r["user"]
        for r in await Participation.select(Participation.user).where(
            Participation.application == application.id
        )
    }
    assert {e.id for e in experts} <= on
    entry = await Answer.objects().where(Answer.kind == "experts_added").first()
    assert entry is not None and entry.application == application.id
    expert_mails = [m for m in mailbox.messages if m.to[0].startswith("expert")]
    assert sorted(m.to[0] for m in expert_mails) == ["expert0@aplus.fr", "expert1@aplus.fr"]
    for message in expert_mails:
        _assert_link_only(message, application)

    # The thread says so, to the aidant too; the demande is still "new" (no answer yet).
    await login(world.aidant)
    response = await client.get(f"/demandes/{application.id}")
    thread = BeautifulSoup(response.text, "html.parser").select_one("#fil").get_text(" ")
    assert "L'équipe Administration+ a été ajoutée automatiquement" in thread
    assert (await Application.objects().first()).status == "new"

    # Once per demande and cause.
    mailbox.messages.clear()
    await tick(paris(2026, 5, 11, 10, 15))
    assert mailbox.messages == []
    assert await Answer.count().where(Answer.kind == "experts_added") == 1
    assert await ReminderMark.exists().where(
        ReminderMark.key == f"experts:{application.id}:no_answer"
    )


async def test_experts_are_added_when_the_last_answer_is_fifteen_business_days_old(
    world, mailbox, tick
):
    experts = await _experts(1)
    application = await _late_demande(world)
    answered = paris(2026, 5, 4, 9, 0)
    set_clock(answered)
    await applications.post_answer(application.id, world.caf_agent, body="Je regarde.")
    due = business_days.experts_due(answered, answered, "75")
    assert due[0] == "stalled"
    # 15 business days from Monday 4 May, skipping 8, 14 and 25 May: Thursday 28 May 9:00.
    assert due[1] == paris(2026, 5, 28, 9, 0)
    mailbox.messages.clear()

    await tick(paris(2026, 5, 26, 9, 5))
    await tick(paris(2026, 5, 28, 8, 55))
    assert mailbox.to(experts[0].email) == []
    await tick(paris(2026, 5, 28, 9, 5))
    [message] = mailbox.to(experts[0].email)
    assert "15 jours ouvrés" in message.text


async def test_experts_stay_out_of_processed_or_archived_demandes(world, mailbox, tick):
    experts = await _experts(1)
    application = await _late_demande(world)
    set_clock(paris(2026, 5, 4, 9, 0))
    await applications.post_answer(
        application.id, world.caf_agent, body="Fait.", marks_processed=True
    )
    await tick(paris(2026, 6, 30, 9, 5))
    assert not await Participation.exists().where(Participation.user == experts[0].id)
