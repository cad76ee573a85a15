"""Answering: messages, quick replies, options, added usager fields, files, errors, htmx."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup
from factories import make_application, make_user
from support.demande_forms import VALID_NIR, text

from app import formatting
from app.domain import applications
from app.tables import Answer, Application, AuditEvent

pytest_plugins = ["support.demandes"]


async def demande(world, **kw):
    return await make_application(by=world.aidant, to=[world.caf], from_group=world.fs, **kw)


async def status_of(application) -> str:
    return (
        await Application.select(Application.status).where(Application.id == application.id).first()
    )["status"]


async def test_instructor_takes_charge_then_marks_processed(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "", "quick": "take_charge"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/demandes/{application.id}#confirmation"
    answer = await Answer.objects().where(Answer.application == application.id).first()
    assert answer.kind == "take_charge" and answer.author_group == world.caf.id
    assert await status_of(application) == "in_progress"

    await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Le droit est rétabli.", "processed": "1"},
    )
    assert await status_of(application) == "processed"
    _, page = await client.page(f"/demandes/{application.id}")
    thread = page.select_one("#fil").get_text(" ")
    assert "Je m'en occupe" in thread and "Le droit est rétabli." in thread
    assert "Demande traitée" in thread


async def test_procedure_standard_needs_the_procedure(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": " ", "irrelevant": "1"}
    )
    assert response.status_code == 400
    assert "Indiquez la procédure standard" in text(response)
    await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Faire la demande en ligne sur caf.fr.", "irrelevant": "1"},
    )
    assert (await Application.objects().first()).is_irrelevant


async def test_wrong_recipient_warns_that_it_engages_the_service(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    _, page = await client.page(f"/demandes/{application.id}")
    button = page.select_one("button[name=quick][value=wrong_recipient]")
    warning = page.select_one(f"#{button['aria-describedby']}").get_text()
    assert "engage tout votre service" in warning
    await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Voir la CPAM.", "quick": "wrong_recipient"},
    )
    answer = await Answer.objects().first()
    assert answer.kind == "wrong_recipient" and answer.body == "Voir la CPAM."


async def test_empty_message_is_refused_with_the_input_kept(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "   ", "field_adresse": ""}
    )
    assert response.status_code == 400
    assert "Votre message est vide" in text(response)
    assert await Answer.count() == 0
    # An invalid added field keeps the typed message.
    response = await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Voici son numéro.", "field_nir": "123"},
    )
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#answer-body").get_text() == "Voici son numéro."
    assert page.select_one("#answer-field_nir")["aria-describedby"] == "answer-field_nir-error"
    assert "15 caractères" in page.select_one("#answer-field_nir-error").get_text()


async def test_htmx_answer_returns_the_refreshed_demande_and_an_empty_form(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Bien reçu."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    # The demande to swap, and the confirmation for the page's live region (out of band).
    oob, root = page.find_all(True, recursive=False)
    assert root["id"] == "demande"
    assert oob["hx-swap-oob"] == "innerHTML:#messages"
    assert "Bien reçu." in page.select_one("#fil").get_text()
    assert page.select_one("#answer-body").get_text() == ""
    assert (
        page.select_one("[data-aplus-focus]").get_text(strip=True) == "Votre message a été envoyé."
    )
    assert page.select_one("#statut").get_text(strip=True) == "En cours"
    # An error comes back the same way, with a 200 htmx will swap.
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Votre message est vide" in text(response)


async def test_creator_adds_usager_fields_shown_in_the_usager_box(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "", "field_nir": VALID_NIR}
    )
    answer = await Answer.objects().first()
    assert answer.kind == "usager_fields"
    assert json.loads(answer.added_fields) == [{"code": "nir", "value": VALID_NIR}]
    _, page = await client.page(f"/demandes/{application.id}")
    # Shown grouped, as on a carte Vitale.
    assert formatting.nir(VALID_NIR) in page.select_one(".aplus-usager").get_text()


async def test_options_are_refused_to_aidants_and_fields_to_instructors(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select("button[name=quick]") and not page.select("#answer-private")
    for forged in ({"quick": "take_charge"}, {"processed": "1"}, {"private": "1", "body": "x"}):
        response = await client.post_form(f"/demandes/{application.id}/reponses", forged)
        assert response.status_code == 403
    await login(world.caf_agent)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"field_nir": VALID_NIR}
    )
    assert response.status_code == 403
    assert await Answer.count() == 0
    assert await AuditEvent.count().where(AuditEvent.code == "access_denied") == 4


async def test_private_answer_hidden_from_the_aidant(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    await client.post_form(
        f"/demandes/{application.id}/reponses",
        {"body": "Entre nous : dossier en fraude ?", "private": "1"},
    )
    assert (await Answer.objects().first()).visibility == "instructors"
    _, page = await client.page(f"/demandes/{application.id}")
    assert "Entre nous" in page.select_one("#fil").get_text()
    assert "Réservé aux instructeurs" in page.select_one("#fil").get_text()

    await login(world.aidant)
    response, page = await client.page(f"/demandes/{application.id}")
    assert "Entre nous" not in response.text
    assert "Aucun message" in page.select_one("#fil").get_text()


async def test_expert_may_only_post_privately(client, login, world):
    application = await demande(world)
    expert = await make_user(expert=True)
    await applications.add_users(application.id, [expert.id], invited_by=None)
    await login(expert)
    _, page = await client.page(f"/demandes/{application.id}")
    assert page.select("#answer-private") and not page.select("button[name=quick]")
    assert not page.select("#answer-processed")
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "Je relance.", "private": "1"}
    )
    assert response.status_code == 303


async def test_creator_message_reopens_an_archived_demande(client, login, world):
    application = await demande(world)
    await applications.archive(application.id, world.aidant, "oui")
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert "votre message la rouvrira" in page.select_one("#repondre").get_text()
    await client.post_form(f"/demandes/{application.id}/reponses", {"body": "Nouveau souci."})
    assert await status_of(application) == "new"
    # The instructeur cannot write on an archived demande.
    await applications.archive(application.id, world.aidant, "oui")
    await login(world.caf_agent)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "Encore moi."}
    )
    assert response.status_code == 403


async def test_outsiders_get_404_when_answering(client, login, world):
    application = await demande(world)
    for outsider in (world.colleague, world.cpam_agent):
        await login(outsider)
        response = await client.post_form(
            f"/demandes/{application.id}/reponses", {"body": "Je m'immisce."}
        )
        assert response.status_code == 404
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    response = await client.post_form(f"/demandes/{application.id}/reponses", {"body": "x"})
    assert response.status_code == 403
    assert await Answer.count() == 0
