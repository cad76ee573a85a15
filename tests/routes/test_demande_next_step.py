"""The demande page shows this viewer's next step first, folds the other actions in native
<details>, and confirms a post without JavaScript with a flash brought into view and focused."""

from __future__ import annotations

from bs4 import BeautifulSoup
from factories import make_application, make_user

from app.domain import applications

pytest_plugins = ["support.demandes"]


async def demande(world):
    return await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)


def first_step(page):
    """The callout right under the demande's header, before the usager and the thread."""
    return page.select_one("#demande > header + #prochaine-etape")


def folded(page) -> dict[str, bool]:
    """Each folded action: its summary and whether it starts open."""
    return {
        d.summary.get_text(strip=True): d.has_attr("open")
        for d in page.select("#demande details.aplus-fold")
    }


async def test_invited_instructeur_is_sent_to_the_reply_form(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    _, page = await client.page(f"/demandes/{application.id}")
    step = first_step(page)
    assert "prendre la demande en charge ou répondre" in step.get_text()
    assert step.select_one("a[href='#repondre']").get_text(strip=True) == "Répondre"
    # The reply form itself is open (not folded), right after the thread.
    reply = page.select_one("#repondre")
    assert reply.find_parent("details") is None
    assert reply.find_previous_sibling("section")["id"] == "fil"
    # Inviting is folded; archiving is not theirs.
    assert folded(page) == {"Inviter un collègue ou un organisme": False}
    assert page.select_one("#archiver") is None


async def test_creator_of_a_processed_demande_archives_first(client, login, world):
    application = await demande(world)
    await applications.post_answer(
        application.id, world.caf_agent, body="Fait.", marks_processed=True
    )
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    step = first_step(page)
    assert step.select_one("form[action$='/archivage']") is not None
    assert step.select_one("#archiver-title").get_text(strip=True) == "Archiver la demande"
    # Answering and inviting are folded below; archiving appears once only.
    assert folded(page) == {
        "Écrire un message": False,
        "Inviter un collègue ou un organisme": False,
    }
    assert len(page.select("form[action$='/archivage']")) == 1


async def test_creator_of_a_new_demande_waits_and_archiving_is_folded(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert "la réponse des organismes" in first_step(page).get_text()
    assert folded(page) == {
        "Écrire un message": False,
        "Inviter un collègue ou un organisme": False,
        "Archiver la demande (situation réglée)": False,
    }


async def test_creator_answers_once_an_organisme_wrote(client, login, world):
    application = await demande(world)
    await applications.post_answer(application.id, world.caf_agent, body="Quel est le numéro ?")
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert "répondre aux organismes" in first_step(page).get_text()
    assert page.select_one("#repondre").find_parent("details") is None


async def test_archived_demande_offers_reopening_first(client, login, world):
    application = await demande(world)
    await applications.archive(application.id, world.aidant, "oui")
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    step = first_step(page)
    assert step.select_one("form[action$='/reouverture']") is not None
    assert folded(page) == {"Écrire un message (rouvre la demande)": False}


async def test_anonymised_admin_gets_no_next_step_and_folded_archiving(client, login, world):
    application = await demande(world)
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    _, page = await client.page(f"/demandes/{application.id}")
    assert first_step(page) is None
    assert folded(page) == {"Archiver la demande (situation réglée)": False}
    # Nothing about who else is looking, no mandat: the anonymised view has no names to show.
    assert page.select_one("#presence") is None
    assert page.select_one("a[href$='/mandat']") is None


async def test_a_folded_form_with_errors_opens_again(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    response = await client.post_form(f"/demandes/{application.id}/invitations", {"body": "x"})
    assert response.status_code == 400
    page = BeautifulSoup(response.text, "html.parser")
    assert folded(page)["Inviter un collègue ou un organisme"] is True
    # Without JavaScript, "Afficher les groupes de ce département" reloads with the list open.
    _, page = await client.page(f"/demandes/{application.id}?departement=93#inviter")
    assert folded(page)["Inviter un collègue ou un organisme"] is True


async def test_without_javascript_the_confirmation_is_the_anchor_and_takes_focus(
    client, login, world
):
    application = await demande(world)
    await login(world.caf_agent)
    response = await client.post_form(f"/demandes/{application.id}/reponses", {"body": "Reçu."})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == f"/demandes/{application.id}#confirmation"
    _, page = await client.page(location.split("#")[0])
    flash = page.select_one("#confirmation")
    assert flash.get_text(strip=True) == "Votre message a été envoyé."
    assert flash.has_attr("autofocus") and flash["tabindex"] == "-1"
    # Inside the live region that htmx swaps fill.
    assert flash.find_parent(id="messages")["aria-live"] == "polite"
