"""The weekly recap for creators and the inactivity cycle, on the test clock."""

from __future__ import annotations

from datetime import timedelta

from factories import make_application, make_group, make_user
from support.jobs import paris, set_clock

from app.domain import applications, login, sessions
from app.tables import AuditEvent, User, UserSession

pytest_plugins = ["support.demandes", "support.jobs"]


def recaps(mailbox) -> list:
    # The open demandes also turn late meanwhile: their reminders are not the subject here.
    return [m for m in mailbox.messages if "à archiver" in m.subject]


async def test_the_weekly_recap_goes_out_on_monday_morning_only(world, mailbox, tick):
    set_clock(paris(2026, 3, 2, 9, 0))
    done = []
    for _ in range(2):
        application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
        await applications.post_answer(
            application.id, world.caf_agent, body="Fait.", marks_processed=True
        )
        done.append(application)
    await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)  # still open
    other = await make_application(by=world.colleague, to=[world.caf], from_group=world.fs)
    await applications.post_answer(other.id, world.caf_agent, body="En cours.")
    await tick(paris(2026, 3, 2, 9, 1))
    mailbox.messages.clear()

    # Tuesday to Sunday at 8:00: nothing.
    for day in range(3, 9):
        assert "weekly_recap" not in await tick(paris(2026, 3, day, 8, 0))
    assert recaps(mailbox) == []

    assert "weekly_recap" in await tick(paris(2026, 3, 9, 8, 0))  # Monday
    [recap] = recaps(mailbox)
    assert recap.to == ["aidant@fs.fr"]
    assert recap.subject == "[A+] 2 demandes traitées à archiver"
    for application in done:
        assert f"http://testserver/demandes/{application.id}" in recap.links
    assert len(recap.links) == 2
    assert "Élodie" not in recap.text and "Fait." not in recap.html

    # Run again by hand the same week: nothing more.
    mailbox.messages.clear()
    from app.jobs import reminders

    assert await reminders.weekly_recap({}) == 0
    assert recaps(mailbox) == []

    # Once one is archived, the next Monday lists the other.
    await applications.archive(done[0].id, world.aidant, "oui")
    await tick(paris(2026, 3, 16, 8, 0))
    await tick(paris(2026, 3, 16, 8, 0))  # the same tick twice (two workers, a rerun)
    [recap] = recaps(mailbox)
    assert recap.links == [f"http://testserver/demandes/{done[1].id}"]


async def _idle_user(email: str, last_login, **kw) -> User:
    user = await make_user(member_of=[await make_group()], email=email, **kw)
    await User.update({User.last_seen_at: last_login}).where(User.id == user.id)
    return user


async def _login_through_the_link(client, mailbox, run_jobs, email: str) -> None:
    await login.request_link(email, "192.0.2.7", None)
    await run_jobs()
    [path] = [
        link.removeprefix("http://testserver")
        for message in mailbox.to(email)
        for link in message.links
        if "/connexion/lien/" in link
    ]
    response = await client.post_form(path)
    assert response.status_code == 303


async def test_inactivity_reminders_at_four_and_five_months_deactivation_at_six(
    client, mailbox, tick, run_jobs
):
    january = paris(2026, 1, 5, 10, 0)
    idle = await _idle_user("idle@caf.fr", january)
    shared = await _idle_user("accueil@caf.fr", january, collective=True)
    back = await _idle_user("back@caf.fr", january)
    expert = await _idle_user("expert@aplus.fr", january, expert=True)
    set_clock(january)
    await sessions.create_session(idle.id)

    async def day(month: int, d: int) -> None:
        assert "inactivity_cycle" in await tick(paris(2026, month, d, 6, 30))

    await day(5, 4)
    assert mailbox.messages == []
    await day(5, 5)  # four months
    assert sorted(m.to[0] for m in mailbox.messages) == sorted(
        ["idle@caf.fr", "accueil@caf.fr", "back@caf.fr", "expert@aplus.fr"]
    )
    [first] = mailbox.to("idle@caf.fr")
    assert first.subject == "[A+] Votre compte est inactif depuis 4 mois"
    assert "désactivé le 05/07/2026" in first.text
    assert "http://testserver/connexion" in first.links
    mailbox.messages.clear()
    await day(5, 6)
    assert mailbox.messages == []

    # A login resets the cycle.
    set_clock(paris(2026, 5, 20, 14, 0))
    await _login_through_the_link(client, mailbox, run_jobs, "back@caf.fr")
    mailbox.messages.clear()

    await day(6, 4)
    assert mailbox.messages == []
    await day(6, 5)  # five months
    assert sorted(m.to[0] for m in mailbox.messages) == sorted(
        ["idle@caf.fr", "accueil@caf.fr", "expert@aplus.fr"]
    )
    [last] = mailbox.to("idle@caf.fr")
    assert last.subject == "[A+] Dernier rappel : votre compte sera désactivé le 05/07/2026"
    mailbox.messages.clear()

    await day(7, 4)
    assert (await User.objects().get(User.id == idle.id)).disabled_at is None
    assert not await UserSession.exists().where(UserSession.revoked_at.is_not_null())
    await day(7, 5)  # six months
    for user in (idle, shared, expert):
        assert (await User.objects().get(User.id == user.id)).disabled_at is not None
    assert (await User.objects().get(User.id == back.id)).disabled_at is None
    # Its sessions end at once (whatever their own lifetime says).
    assert await UserSession.exists().where(
        (UserSession.user == idle.id) & UserSession.revoked_at.is_not_null()
    )
    assert await AuditEvent.count().where(AuditEvent.code == "user_disabled") == 3
    assert mailbox.messages == []

    # The one who logged in on 20 May starts again from there: 4 months is 20 September.
    await day(9, 19)
    assert mailbox.messages == []
    await day(9, 20)
    assert [m.to[0] for m in mailbox.messages] == ["back@caf.fr"]


async def test_a_late_start_still_warns_twice_before_deactivating(mailbox, tick):
    # An account idle for a year when the cycle first runs.
    await _idle_user("ancien@caf.fr", paris(2025, 1, 5, 10, 0))
    start = paris(2026, 1, 10, 6, 30)
    await tick(start)
    [first] = mailbox.to("ancien@caf.fr")
    assert "désactivé le 07/02/2026" in first.text  # two gaps of 14 days
    for days in (1, 13):
        await tick(start + timedelta(days=days))
    assert len(mailbox.to("ancien@caf.fr")) == 1
    await tick(start + timedelta(days=14))
    assert len(mailbox.to("ancien@caf.fr")) == 2
    await tick(start + timedelta(days=27))
    assert (await User.objects().where(User.email == "ancien@caf.fr").first()).disabled_at is None
    await tick(start + timedelta(days=28))
    assert (await User.objects().where(User.email == "ancien@caf.fr").first()).disabled_at
