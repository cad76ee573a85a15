"""Inviting colleagues and whole groups of any département; archiving and reopening."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup
from factories import make_application, make_user
from support.demande_forms import text
from support.queries import QueryCounter

from app.domain import applications
from app.tables import Answer, Application, AuditEvent, Participation

pytest_plugins = ["support.demandes"]


async def demande(world, **kw):
    return await make_application(by=world.aidant, to=[world.caf], from_group=world.fs, **kw)


async def participants(application) -> set:
    rows = await Participation.select(Participation.user).where(
        Participation.application == application.id
    )
    return {r["user"] for r in rows}


async def test_instructor_invites_a_group_of_another_departement_privately(
    client, login, world, monkeypatch
):
    application = await demande(world)
    await login(world.caf_agent)
    # The picker lists the groups of a chosen département (htmx partial, or the page's GET):
    # the session, the guard and its lists, not the demande.
    counter = QueryCounter(monkeypatch)
    response = await client.get(
        f"/demandes/{application.id}/invitations/groupes",
        params={"departement": "13"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "CAF des Bouches-du-Rhône" in response.text
    assert counter.count <= 3
    _, page = await client.page(f"/demandes/{application.id}?departement=13")
    assert page.select_one(f"#invite-group-{world.caf13.id}")
    # Groups already on the demande are not offered again.
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select_one(f"#invite-group-{world.caf.id}")
    assert page.select_one(f"#invite-group-{world.cpam.id}")

    response = await client.post_form(
        f"/demandes/{application.id}/invitations",
        {"groups": [str(world.caf13.id)], "body": "Dossier transféré ?", "private": "1"},
    )
    assert response.status_code == 303
    assert world.caf13_agent.id in await participants(application)
    answer = await Answer.objects().where(Answer.kind == "invitation").first()
    assert answer.visibility == "instructors"
    assert json.loads(answer.invited) == {"users": [], "groups": [str(world.caf13.id)]}
    codes = [e["code"] for e in await AuditEvent.select(AuditEvent.code)]
    assert "group_invited" in codes
    # Invitations do not change the status.
    assert (await Application.objects().first()).status == "new"

    await login(world.caf13_agent)
    _, page = await client.page(f"/demandes/{application.id}")
    thread = page.select_one("#fil").get_text(" ")
    assert "A invité : CAF des Bouches-du-Rhône" in thread and "Dossier transféré ?" in thread


async def test_aidant_invites_a_colleague(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert page.select_one(f"#invite-user-{world.colleague.id}")
    assert not page.select_one("#invite-private")
    response = await client.post_form(
        f"/demandes/{application.id}/invitations",
        {"users": [str(world.colleague.id)], "body": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Les invitations ont été envoyées." in text(response)
    assert world.colleague.id in await participants(application)
    await login(world.colleague)
    assert (await client.get(f"/demandes/{application.id}")).status_code == 200


async def test_invitation_needs_someone_and_only_colleagues_may_be_picked(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    response = await client.post_form(f"/demandes/{application.id}/invitations", {"body": "Coucou"})
    assert response.status_code == 400
    page = BeautifulSoup(response.text, "html.parser")
    assert (
        "Choisissez au moins un collègue, un groupe ou les experts"
        in page.select_one("#inviter").get_text()
    )
    assert page.select_one("#invite-body").get_text() == "Coucou"
    # An id that is not a colleague (here an instructeur of another body) is ignored.
    response = await client.post_form(
        f"/demandes/{application.id}/invitations", {"users": [str(world.cpam_agent.id)]}
    )
    assert response.status_code == 400
    assert world.cpam_agent.id not in await participants(application)


async def test_outsiders_cannot_invite(client, login, world):
    application = await demande(world)
    await login(world.cpam_agent)
    before = await participants(application)
    response = await client.post_form(
        f"/demandes/{application.id}/invitations", {"groups": [str(world.cpam.id)]}
    )
    assert response.status_code == 404
    # Nothing changed: nobody joined, the thread has no invitation.
    assert await participants(application) == before
    assert world.cpam_agent.id not in before
    assert not await Answer.exists().where(
        (Answer.application == application.id) & (Answer.kind == "invitation")
    )
    response = await client.get(f"/demandes/{application.id}/invitations/groupes")
    assert response.status_code == 404


async def test_archive_needs_usefulness_then_reopen(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    labels = [label.get_text(" ", strip=True) for label in page.select("#archiver label")]
    assert labels == ["😊 Oui", "😐 Je ne sais pas", "☹ Non"]

    response = await client.post_form(f"/demandes/{application.id}/archivage", {})
    assert response.status_code == 400
    assert "Indiquez si Administration+ vous a été utile" in text(response)
    assert (await Application.objects().first()).status == "new"

    response = await client.post_form(
        f"/demandes/{application.id}/archivage", {"usefulness": "oui"}
    )
    assert response.status_code == 303
    row = await Application.objects().first()
    assert (row.status, row.usefulness) == ("archived", "oui")
    _, page = await client.page(f"/demandes/{application.id}")
    assert page.select_one("#statut").get_text(strip=True) == "Archivée"

    response = await client.post_form(
        f"/demandes/{application.id}/reouverture", {}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert (await Application.objects().first()).status == "new"
    codes = [e["code"] for e in await AuditEvent.select(AuditEvent.code)]
    assert "application_archived" in codes and "application_reopened" in codes


async def test_who_may_archive(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select("form[action$='/archivage']")
    response = await client.post_form(
        f"/demandes/{application.id}/archivage", {"usefulness": "oui"}
    )
    assert response.status_code == 403
    # An invited colleague of the creator's group may.
    await applications.add_users(application.id, [world.colleague.id], invited_by=world.aidant.id)
    await login(world.colleague)
    response = await client.post_form(
        f"/demandes/{application.id}/archivage", {"usefulness": "ne_sait_pas"}
    )
    assert response.status_code == 303
    # And an admin of the département may reopen it.
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    assert (
        await client.post_form(f"/demandes/{application.id}/reouverture", {})
    ).status_code == 303


async def test_admin_archives_without_rating(client, login, world):
    application = await demande(world)
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select("input[name=usefulness]")
    response = await client.post_form(
        f"/demandes/{application.id}/archivage", {"usefulness": "non"}
    )
    assert response.status_code == 303
    row = await Application.objects().first()
    assert (row.status, row.usefulness) == ("archived", None)


async def test_anyone_on_the_demande_invites_the_experts_whose_answer_counts(
    client, login, world, mailbox, run_jobs
):
    expert = await make_user(email="expert@aplus.fr", expert=True)
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    label = page.select_one('label[for="invite-experts"]').get_text(" ")
    assert "L'équipe Administration+ (experts)" in label

    response = await client.post_form(
        f"/demandes/{application.id}/invitations", {"experts": "1", "body": ""}
    )
    assert response.status_code == 303
    assert expert.id in await participants(application)
    answer = await Answer.objects().where(Answer.kind == "invitation").first()
    assert json.loads(answer.invited)["experts"] is True
    _, page = await client.page(f"/demandes/{application.id}")
    assert "A invité : l'équipe Administration+ (experts)" in page.select_one("#fil").get_text(" ")
    # Once on, the experts are no longer offered.
    assert not page.select_one("#invite-experts")
    mailbox.messages.clear()
    await run_jobs()
    [invitation] = mailbox.to("expert@aplus.fr")
    assert f"http://testserver/demandes/{application.id}" in invitation.links

    # The expert reads and answers; the answer is an answer (the demande is in progress).
    await login(expert)
    _, page = await client.page(f"/demandes/{application.id}")
    assert "Description de la situation." in page.get_text()
    response = await client.post_form(
        f"/demandes/{application.id}/reponses", {"body": "Voici la marche à suivre."}
    )
    assert response.status_code == 303
    assert (await Application.objects().first()).status == "in_progress"


async def test_experts_are_not_offered_when_there_is_none(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select_one("#invite-experts")
    # A forged request for them adds nobody and says there was no one to invite.
    response = await client.post_form(
        f"/demandes/{application.id}/invitations", {"experts": "1", "body": ""}
    )
    assert response.status_code == 400
    assert "Choisissez au moins" in BeautifulSoup(response.text, "html.parser").get_text()
