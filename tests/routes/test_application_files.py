"""Downloading files: only through the rules, as an attachment, never cached, in the audit log."""

from __future__ import annotations

import uuid

from factories import make_application, make_user

from app import clock
from app.domain import applications, files
from app.tables import Attachment, AuditEvent

pytest_plugins = ["support.demandes"]

PDF = b"%PDF-1.4 avis de situation"


async def with_file(world, visibility="public"):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    answer = None
    if visibility != "creation":
        answer = await applications.post_answer(
            application.id, world.caf_agent, body="Voir pièce.", visibility=visibility
        )
    attachment = await files.store(
        files.check_file("Avis de situation.pdf", PDF),
        application_id=application.id,
        uploader_id=world.caf_agent.id,
        answer_id=answer.id if answer else None,
    )
    return application, attachment


async def test_creator_downloads_an_attachment_not_cached_and_audited(client, login, world):
    application, attachment = await with_file(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    link = page.select_one(f"a[href='/demandes/{application.id}/fichiers/{attachment.id}']")
    assert link.get_text(strip=True) == "Avis de situation.pdf"
    response = await client.get(link["href"])
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    events = await AuditEvent.select().where(AuditEvent.code == "file_downloaded")
    assert [(e["actor_id"], e["target_file_id"]) for e in events] == [
        (world.aidant.id, attachment.id)
    ]


async def test_experts_admins_and_outsiders_never_download(client, login, world):
    application, attachment = await with_file(world)
    url = f"/demandes/{application.id}/fichiers/{attachment.id}"
    expert = await make_user(expert=True)
    await applications.add_users(application.id, [expert.id], invited_by=None)
    admin = await make_user(admin=True, admin_areas=["75"])
    for user in (expert, admin, world.colleague, world.cpam_agent):
        await login(user)
        assert (await client.get(url)).status_code == 404
    await login(expert)
    _, page = await client.page(f"/demandes/{application.id}")
    assert not page.select("a[href*='/fichiers/']")
    assert "Avis de situation.pdf" in page.get_text()


async def test_file_of_a_private_answer_is_hidden_from_the_aidant(client, login, world):
    application, attachment = await with_file(world, visibility="instructors")
    await login(world.aidant)
    url = f"/demandes/{application.id}/fichiers/{attachment.id}"
    assert (await client.get(url)).status_code == 404
    await login(world.caf_agent2)
    assert (await client.get(url)).status_code == 200


async def test_guessed_file_ids_are_404(client, login, world):
    application, attachment = await with_file(world)
    other = await make_application(by=world.aidant, to=[world.cpam], from_group=world.fs)
    await login(world.cpam_agent)
    # A visible demande with a file id of another demande, and a random id.
    for url in (
        f"/demandes/{other.id}/fichiers/{attachment.id}",
        f"/demandes/{other.id}/fichiers/{uuid.uuid4()}",
        f"/demandes/{application.id}/fichiers/{attachment.id}",
    ):
        assert (await client.get(url)).status_code == 404
    assert await AuditEvent.count().where(AuditEvent.code == "not_found_in_scope") == 3


async def test_deleted_file_says_so(client, login, world):
    application, attachment = await with_file(world)
    await Attachment.update({Attachment.deleted_at: clock.now()}).where(
        Attachment.id == attachment.id
    )
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert "supprimé le" in page.select_one("#fil").get_text()
    response = await client.get(f"/demandes/{application.id}/fichiers/{attachment.id}")
    assert response.status_code == 410
    assert "sans sauvegarde" in response.text


async def test_answer_with_a_file_and_refused_types(client, login, world):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    await login(world.aidant)
    token = await client.csrf_token()
    response = await client.post(
        f"/demandes/{application.id}/reponses",
        data={"body": "Ci-joint.", "_csrf_token": token},
        files=[("files", ("script.pdf", b"#!/bin/sh\x00rm -rf", "application/pdf"))],
    )
    assert response.status_code == 400
    assert "Ci-joint." in response.text
    assert "accepté" in response.text
    response = await client.post(
        f"/demandes/{application.id}/reponses",
        data={"body": "", "_csrf_token": token},
        files=[("files", ("photo.png", b"\x89PNG\r\n\x1a\n...", "image/png"))],
    )
    assert response.status_code == 303
    attachment = await Attachment.objects().first()
    assert attachment.answer is not None and attachment.content_type == "image/png"
