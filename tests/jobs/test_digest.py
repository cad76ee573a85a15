"""The daily digest: chosen on /profil, one morning e-mail instead of one per event."""

from __future__ import annotations

from bs4 import BeautifulSoup
from factories import make_application
from support.jobs import paris, set_clock

from app.domain import applications, login
from app.notifications import answer_posted, application_created
from app.tables import DigestEntry, User

pytest_plugins = ["support.demandes", "support.jobs"]

DAY = (2026, 3, 10)  # a Tuesday


async def _prefer(user, frequency: str) -> None:
    await User.update({User.notification_frequency: frequency}).where(User.id == user.id)


async def test_the_profile_offers_the_digest_and_keeps_a_bad_choice_on_the_page(
    client, login, world
):
    await login(world.caf_agent)
    _, page = await client.page("/profil")
    labels = [label.get_text(" ", strip=True) for label in page.select(".fr-radio-group label")]
    assert labels[0].startswith("À chaque événement")
    assert labels[1].startswith("Un récapitulatif quotidien")
    assert page.select_one("input[name=notification_frequency][value=each]").has_attr("checked")

    fields = {"first_name": "Chloé", "last_name": "Bernard", "qualite": "Agent"}
    fields["phone"] = "01 23 45 67 89"
    bad = await client.post_form("/profil", {**fields, "notification_frequency": "hourly"})
    assert bad.status_code == 400
    soup = BeautifulSoup(bad.text, "html.parser")
    assert "Choisissez quand recevoir les e-mails" in soup.select_one(".fr-error-text").get_text()
    assert soup.select_one("#champ-first_name")["value"] == "Chloé"

    ok = await client.post_form("/profil", {**fields, "notification_frequency": "daily"})
    assert ok.status_code == 303
    saved = await User.objects().where(User.id == world.caf_agent.id).first()
    assert saved.notification_frequency == "daily"
    _, page = await client.page("/profil")
    assert page.select_one("input[name=notification_frequency][value=daily]").has_attr("checked")


async def _three_events(world):
    """Two new demandes to the CAF and an answer on the first: three events for its agents."""
    set_clock(paris(*DAY, 9, 0))
    first = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    await application_created(first.id)
    second = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    await application_created(second.id)
    answer = await applications.post_answer(first.id, world.aidant, body="Précision.")
    await answer_posted(answer.id)
    return first, second


async def test_three_events_make_one_digest_or_three_mails(world, mailbox, tick):
    await _prefer(world.caf_agent, "daily")
    first, second = await _three_events(world)
    await tick(paris(*DAY, 9, 1))

    assert len(mailbox.to("agent2@caf.fr")) == 3  # each event, at once
    assert mailbox.to("agent1@caf.fr") == []  # held for the digest
    # Group BALs keep their per-event mails.
    assert len(mailbox.to("bal.caf@caf.fr")) == 3

    mailbox.messages.clear()
    await tick(paris(2026, 3, 11, 6, 50))
    assert mailbox.to("agent1@caf.fr") == []
    assert "send_digests" in await tick(paris(2026, 3, 11, 7, 0))
    [digest] = mailbox.to("agent1@caf.fr")
    assert digest.subject == "[A+] Récapitulatif du jour : 2 demandes"
    for application in (first, second):
        assert f"http://testserver/demandes/{application.id}" in digest.links
        assert f'href="http://testserver/demandes/{application.id}"' in digest.html
    assert "Nouvelle demande, 1 nouveau message" in digest.text
    for secret in ("Élodie", "Dupont", "Prestation suspendue", "Précision"):
        assert secret not in digest.text and secret not in digest.html
    assert mailbox.to("agent2@caf.fr") == []

    # Nothing new: no e-mail the next morning.
    mailbox.messages.clear()
    await tick(paris(2026, 3, 12, 7, 0))
    assert mailbox.messages == []
    assert await DigestEntry.count() == 0


async def test_a_private_answer_reaches_an_aidant_in_neither_form(world, mailbox, tick):
    await _prefer(world.aidant, "daily")
    set_clock(paris(*DAY, 9, 0))
    application = await make_application(
        by=world.aidant, to=[world.caf], from_group=world.fs, colleagues=[world.colleague]
    )
    private = await applications.post_answer(
        application.id, world.caf_agent, body="Entre nous.", visibility="instructors"
    )
    await answer_posted(private.id)
    await tick(paris(*DAY, 9, 1))
    assert mailbox.to("collegue@fs.fr") == []  # immediate aidant: nothing
    assert await DigestEntry.count() == 0

    await tick(paris(2026, 3, 11, 7, 0))
    assert mailbox.to("aidant@fs.fr") == []  # digest aidant: nothing either

    public = await applications.post_answer(application.id, world.caf_agent, body="Réponse.")
    await answer_posted(public.id)
    await tick(paris(2026, 3, 12, 7, 0))
    [digest] = mailbox.to("aidant@fs.fr")
    assert "1 nouveau message" in digest.text
    assert len(mailbox.to("collegue@fs.fr")) == 1  # and the public answer, at once


async def test_login_links_are_never_held_for_the_digest(world, mailbox, run_jobs):
    await _prefer(world.aidant, "daily")
    await login.request_link("aidant@fs.fr", "192.0.2.1", None)
    await run_jobs()
    [link] = mailbox.to("aidant@fs.fr")
    assert "/connexion/lien/" in link.text
