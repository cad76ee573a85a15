"""Réponses types: managed on the group page by its members, inserted into a reply in one
post (without JavaScript) or one fragment (htmx); another group's are a 404 everywhere."""

from __future__ import annotations

from bs4 import BeautifulSoup
from factories import make_application, make_user

from app.domain import admin as admin_domain
from app.domain import canned_replies
from app.tables import Answer, AuditEvent

pytest_plugins = ["support.demandes"]

HX = {"HX-Request": "true"}


def page_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def section_text(response) -> str:
    return " ".join(page_of(response).find(id="reponses-types").get_text(" ").split())


async def add(client, group, title="Pièces CAF", text="Merci de joindre l'attestation."):
    return await client.post_form(
        f"/groupes/{group.id}/reponses-types", {"title": title, "text": text}
    )


async def only_reply(group):
    (reply,) = await canned_replies.of_group(group.id)
    return reply


# --- management on the group page ------------------------------------------------------------


async def test_a_member_adds_edits_and_deletes_without_javascript(client, login, world):
    await login(world.caf_agent)
    response, page = await client.page(f"/groupes/{world.caf.id}")
    section = page.find(id="reponses-types")
    assert "Aucune réponse type" in section.text
    assert "Jamais de données personnelles" in section.text
    assert section.find("form", id="ajouter-reponse-type")

    response = await add(client, world.caf)
    assert response.status_code == 303
    assert response.headers["location"] == f"/groupes/{world.caf.id}/reponses-types#confirmation"
    response = await client.get(response.headers["location"])
    assert "La réponse type « Pièces CAF » a été ajoutée." in response.text
    reply = await only_reply(world.caf)
    assert (reply.title, reply.text) == ("Pièces CAF", "Merci de joindre l'attestation.")

    # The group page lists it, with who changed it last.
    _, page = await client.page(f"/groupes/{world.caf.id}")
    item = page.find(id=f"reponse-type-{reply.id}")
    assert "Merci de joindre l'attestation." in item.text
    assert world.caf_agent.last_name in item.text

    # Edit: the form in place of the reply, then saved.
    response, page = await client.page(f"/groupes/{world.caf.id}/reponses-types/{reply.id}/edition")
    assert page.find(id="modifier-title")["value"] == "Pièces CAF"
    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types/{reply.id}",
        {"title": "Pièces à joindre", "text": "Ligne 1\r\nLigne 2  "},
    )
    assert response.status_code == 303
    assert (await only_reply(world.caf)).text == "Ligne 1\nLigne 2"

    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types/{reply.id}/suppression"
    )
    assert response.status_code == 303
    assert await canned_replies.of_group(world.caf.id) == []
    codes = [
        r["code"]
        for r in await AuditEvent.select(AuditEvent.code).where(
            AuditEvent.actor_id == world.caf_agent.id
        )
    ]
    assert codes.count("group_updated") == 3


async def test_htmx_swaps_the_section_with_its_notice(client, login, world):
    await login(world.caf_agent)
    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types",
        {"title": "Délais", "text": "Comptez trois semaines."},
        headers=HX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<section")
    assert "La réponse type « Délais » a été ajoutée." in section_text(response)
    reply = await only_reply(world.caf)
    response = await client.get(
        f"/groupes/{world.caf.id}/reponses-types/{reply.id}/edition", headers=HX
    )
    assert page_of(response).find(id="modifier-text").text == "Comptez trois semaines."


async def test_errors_in_french_with_what_was_typed(client, login, world):
    await login(world.caf_agent)
    long_title = "T" * (canned_replies.TITLE_MAX + 1)
    response = await add(client, world.caf, title=long_title, text="")
    assert response.status_code == 422
    page = page_of(response)
    assert page.find(id="ajouter-title")["value"] == long_title
    text = section_text(response)
    assert f"Le titre ne doit pas dépasser {canned_replies.TITLE_MAX} caractères" in text
    assert "Écrivez le texte de la réponse type." in text

    response = await add(client, world.caf, title="Long", text="x" * (canned_replies.TEXT_MAX + 1))
    assert response.status_code == 422
    assert page_of(response).find(id="ajouter-text").text == "x" * (canned_replies.TEXT_MAX + 1)
    assert f"ne doit pas dépasser {canned_replies.TEXT_MAX} caractères" in section_text(response)

    # With htmx: the same errors in the swapped section (htmx only swaps 2xx answers).
    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types", {"title": " ", "text": "Texte"}, headers=HX
    )
    assert response.status_code == 200
    assert "Donnez un titre court à la réponse type." in section_text(response)

    # An edit keeps what was typed too.
    await add(client, world.caf)
    reply = await only_reply(world.caf)
    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types/{reply.id}", {"title": "", "text": "Nouveau"}
    )
    assert response.status_code == 422
    assert page_of(response).find(id="modifier-text").text == "Nouveau"
    assert (await only_reply(world.caf)).title == "Pièces CAF"
    assert await canned_replies.of_group(world.caf.id) == [reply]


async def test_the_limit_per_group(client, login, world):
    for i in range(canned_replies.MAX_PER_GROUP):
        form = await canned_replies.create(
            world.caf.id, {"title": f"R{i:02}", "text": "Texte"}, actor_id=world.caf_agent.id
        )
        assert not form.errors
    await login(world.caf_agent)
    _, page = await client.page(f"/groupes/{world.caf.id}")
    section = page.find(id="reponses-types")
    assert section.find("form", id="ajouter-reponse-type") is None
    assert "a atteint le maximum de 50 réponses types" in section.text
    response = await add(client, world.caf, title="Une de trop")
    assert response.status_code == 422
    assert "déjà 50 réponses types" in section_text(response)
    assert page_of(response).find(id="ajouter-title")["value"] == "Une de trop"
    assert len(await canned_replies.of_group(world.caf.id)) == canned_replies.MAX_PER_GROUP


async def test_another_group_gets_404_and_observers_only_read(client, login, world):
    await login(world.caf_agent)
    await add(client, world.caf)
    reply = await only_reply(world.caf)
    await login(world.cpam_agent)
    base = f"/groupes/{world.caf.id}/reponses-types"
    assert (await client.get(base)).status_code == 404
    assert (await client.get(f"{base}/{reply.id}/edition")).status_code == 404
    assert (await client.post_form(base, {"title": "x", "text": "y"})).status_code == 404
    assert (await client.post_form(f"{base}/{reply.id}/suppression")).status_code == 404
    # Own group, a reply of another group: still a 404.
    own = f"/groupes/{world.cpam.id}/reponses-types/{reply.id}"
    assert (await client.get(f"{own}/edition")).status_code == 404
    assert (await client.post_form(own, {"title": "x", "text": "y"})).status_code == 404
    assert (await client.post_form(f"{own}/suppression")).status_code == 404
    assert await canned_replies.of_group(world.caf.id) == [reply]

    # An observer of the CAF in Paris reads them on the group page, and changes nothing.
    observer = await make_user(email="observateur@caf.fr")
    await admin_domain.grant_scope(observer.id, "observer", "caf", "75")
    await login(observer)
    _, page = await client.page(f"/groupes/{world.caf.id}")
    section = page.find(id="reponses-types")
    assert "Merci de joindre l'attestation." in section.text
    assert section.find("form") is None
    assert (await client.post_form(base, {"title": "x", "text": "y"})).status_code == 403
    assert (await client.post_form(f"{base}/{reply.id}/suppression")).status_code == 403

    # An admin of the département may correct one (a reply holding personal data).
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    response = await client.post_form(f"{base}/{reply.id}/suppression")
    assert response.status_code == 303


async def test_responsable_and_member_rights_match_the_decision(client, login, world):
    # Members manage (responsables are members); see docs/decisions/2026-12-02-canned-replies.md.
    responsable = await make_user(manager_of=[world.caf], email="resp@caf.fr")
    await login(world.caf_agent2)
    await add(client, world.caf)
    reply = await only_reply(world.caf)
    await login(responsable)
    response = await client.post_form(
        f"/groupes/{world.caf.id}/reponses-types/{reply.id}", {"title": "Revu", "text": "Revu"}
    )
    assert response.status_code == 303
    assert (await only_reply(world.caf)).title == "Revu"


# --- insertion into a reply ------------------------------------------------------------------


async def demande_with_reply(client, login, world):
    application = await make_application(
        by=world.aidant, to=[world.caf], from_group=world.fs, usager=("Élodie", "Dupont")
    )
    await login(world.caf_agent)
    await add(client, world.caf, title="Pièces", text="Joindre l'attestation de la CAF.")
    return application, await only_reply(world.caf)


async def test_insert_without_javascript_keeps_the_draft_then_sends(client, login, world):
    application, reply = await demande_with_reply(client, login, world)
    _, page = await client.page(f"/demandes/{application.id}")
    picker = page.find(id="answer-canned")
    assert [o.text for o in picker.find_all("option")] == ["Choisir une réponse type", "Pièces"]
    button = page.find("button", string="Insérer")
    assert button["formaction"] == f"/demandes/{application.id}/reponses/modele#answer-body-field"

    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele",
        {"body": "Bonjour,", "reponse_type": str(reply.id), "private": "1", "signature": ""},
    )
    assert response.status_code == 200
    page = page_of(response)
    body = page.find(id="answer-body")
    assert body.text == "Bonjour,\n\nJoindre l'attestation de la CAF."
    assert body.has_attr("autofocus")
    assert page.find(id="answer-private").has_attr("checked")
    assert "Réponse type « Pièces » ajoutée à la fin du message." in page.text
    assert await Answer.count().where(Answer.application == application.id) == 0

    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": body.text, "private": "1"}
    )
    assert response.status_code == 303
    sent = await Answer.select(Answer.body).where(Answer.application == application.id)
    assert [a["body"] for a in sent] == ["Bonjour,\n\nJoindre l'attestation de la CAF."]


async def test_insert_with_htmx_swaps_the_message_only(client, login, world):
    application, reply = await demande_with_reply(client, login, world)
    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele",
        {"body": "", "reponse_type": str(reply.id)},
        headers=HX,
    )
    assert response.status_code == 200
    page = page_of(response)
    assert page.find().get("id") == "answer-body-field"
    assert page.find(id="answer-body").text == "Joindre l'attestation de la CAF."
    assert "aplusNotice" in response.headers["hx-trigger"]
    # Nothing chosen: said in French, next to the select.
    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele", {"body": "Brouillon"}, headers=HX
    )
    page = page_of(response)
    assert "Choisissez une réponse type dans la liste." in page.find(id="answer-canned-error").text
    assert page.find(id="answer-body").text == "Brouillon"
    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele", {"body": "Brouillon"}
    )
    assert response.status_code == 422


async def test_another_groups_reply_cannot_be_inserted(client, login, world):
    application, reply = await demande_with_reply(client, login, world)
    # The CPAM agent is invited on the demande and may answer, but the reply is the CAF's.
    application2 = await make_application(by=world.aidant, to=[world.cpam], from_group=world.fs)
    await login(world.cpam_agent)
    _, page = await client.page(f"/demandes/{application2.id}")
    assert page.find(id="answer-canned") is None
    for data in ({"reponse_type": str(reply.id)}, {"reponse_type": "pas-un-uuid"}):
        response = await client.post_form(f"/demandes/{application2.id}/reponses/modele", data)
        assert response.status_code == 404
        assert "attestation" not in response.text
    # And the demande of another service is a 404 before anything else.
    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele", {"reponse_type": str(reply.id)}
    )
    assert response.status_code == 404


async def test_a_viewer_without_answer_rights_sees_no_picker(client, login, world):
    application, _reply = await demande_with_reply(client, login, world)
    # An admin of the département reads it anonymised and cannot answer, even when in the CAF.
    admin = await make_user(admin=True, admin_areas=["75"], helper_in=[world.caf])
    await login(admin)
    response, page = await client.page(f"/demandes/{application.id}")
    assert response.status_code == 200
    assert page.find(id="answer-canned") is None and page.find(id="answer-body") is None
    response = await client.post_form(
        f"/demandes/{application.id}/reponses/modele", {"reponse_type": str(_reply.id)}
    )
    assert response.status_code == 403
