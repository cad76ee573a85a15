"""The demande page: what each viewer sees, the seen mark, the audit log, the anonymised view."""

from __future__ import annotations

import uuid

from factories import make_application, make_user
from support.demande_forms import text
from support.queries import QueryCounter

from app import clock
from app.domain import applications
from app.tables import AuditEvent, Participation

pytest_plugins = ["support.demandes"]


async def demande(world, **kw):
    return await make_application(
        by=world.aidant,
        to=[world.caf],
        from_group=world.fs,
        usager=("Élodie", "Dupontel"),
        subject="Aide au logement suspendue",
        description="Situation très particulière.",
        **kw,
    )


async def test_creator_sees_everything_with_creator_labels(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    response, page = await client.page(f"/demandes/{application.id}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = text(response)
    assert page.select_one("h1").get_text(strip=True) == "Aide au logement suspendue"
    assert page.select_one("#statut").get_text(strip=True) == "Envoyée"
    assert "Élodie" in body and "Dupontel" in body and "Situation très particulière." in body
    assert "Paris (75)" in body
    assert "Autorisation de l'usager : mandat papier signé par l'usager" in body
    assert "supprimés 15 jours après leur envoi, sans sauvegarde" in body
    participants = page.select_one(".aplus-participants").get_text(" ")
    assert "CAF de Paris" in participants and "France Services Paris 18e" in participants
    assert "Pas encore consultée" in participants
    # One h1 on the page.
    assert len(page.select("h1")) == 1


async def test_instructor_view_labels_and_seen_mark_and_audit(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    response, page = await client.page(f"/demandes/{application.id}")
    assert page.select_one("#statut").get_text(strip=True) == "Nouvelle"
    seen = (
        await Participation.select(Participation.last_seen_at)
        .where(
            (Participation.application == application.id)
            & (Participation.user == world.caf_agent.id)
        )
        .first()
    )
    assert seen["last_seen_at"] is not None
    events = await AuditEvent.select().where(AuditEvent.actor_id == world.caf_agent.id)
    assert [(e["code"], e["target_application_id"]) for e in events] == [
        ("application_opened", application.id)
    ]


async def _seen_at(application_id, user_id):
    row = await (
        Participation.select(Participation.last_seen_at)
        .where((Participation.application == application_id) & (Participation.user == user_id))
        .first()
    )
    return row["last_seen_at"]


async def test_seen_mark_moves_only_when_it_changes_what_is_shown(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    # Ten seconds into a minute: the next requests stay within it.
    now = clock.now()
    clock.travel(70 - now.second - now.microsecond / 1_000_000)
    await client.get(f"/demandes/{application.id}")
    first = await _seen_at(application.id, world.caf_agent.id)
    assert first is not None

    # A reload in the same minute: the participants list and the inbox would read the same.
    clock.travel(20)
    await client.get(f"/demandes/{application.id}")
    assert await _seen_at(application.id, world.caf_agent.id) == first

    # Someone else wrote since: the entry is read now, the mark moves (inbox: not unread).
    await applications.post_answer(application.id, world.aidant, body="Précision.")
    clock.travel(1)
    await client.get(f"/demandes/{application.id}")
    second = await _seen_at(application.id, world.caf_agent.id)
    assert second > first

    # Another minute: "Vue le … à HH:MM" changes, so does the mark.
    clock.travel(60)
    await client.get(f"/demandes/{application.id}")
    assert await _seen_at(application.id, world.caf_agent.id) > second

    # Every opening is in the audit log, moved mark or not.
    events = await AuditEvent.select(AuditEvent.code).where(
        AuditEvent.actor_id == world.caf_agent.id
    )
    assert [e["code"] for e in events] == ["application_opened"] * 4


async def test_processed_reads_a_archiver_for_the_creator(client, login, world):
    application = await demande(world)
    await applications.post_answer(
        application.id, world.caf_agent, body="Fait.", marks_processed=True
    )
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    assert page.select_one("#statut").get_text(strip=True) == "À archiver"


async def test_outsiders_get_404_for_the_demande(client, login, world):
    application = await demande(world)
    for outsider in (world.colleague, world.cpam_agent, world.caf13_agent):
        await login(outsider)
        assert (await client.get(f"/demandes/{application.id}")).status_code == 404
    await login(world.aidant)
    assert (await client.get(f"/demandes/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/demandes/pas-un-identifiant")).status_code == 404
    denials = await AuditEvent.select(AuditEvent.code).where(
        AuditEvent.code == "not_found_in_scope"
    )
    assert len(denials) == 4


async def test_anonymous_is_sent_to_login(client, world):
    application = await demande(world)
    response = await client.get(f"/demandes/{application.id}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


async def test_admin_sees_it_anonymised(client, login, world):
    application = await demande(world)
    await applications.post_answer(application.id, world.caf_agent, body="Réponse secrète.")
    # Added later by the creator: masked once, with the length of the real value.
    await applications.post_answer(
        application.id,
        world.aidant,
        kind="usager_fields",
        added_fields=[{"code": "caf_id", "value": "1234567"}],
    )
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    response, page = await client.page(f"/demandes/{application.id}")
    assert response.status_code == 200
    body = text(response)
    for secret in (
        "Élodie",
        "Dupontel",
        "Aide au logement",
        "Situation très particulière",
        "Réponse secrète",
    ):
        assert secret not in body
    assert f"Description de {len('Situation très particulière.')} caractères" in body
    assert "Message de 16 caractères" in body
    assert "masqué (6 caractères)" in body
    box = page.select_one("dl.aplus-usager").get_text(" ", strip=True)
    assert "masqué (7 caractères)" in box and "1234567" not in body
    assert not page.select("a[href*='/fichiers/']")
    # Not a participant: nothing to answer, no "seen" mark, an anonymised opening in the log.
    assert not page.select("form[action$='/reponses']")
    events = await AuditEvent.select(AuditEvent.code).where(AuditEvent.actor_id == admin.id)
    assert [e["code"] for e in events] == ["application_opened_anonymised"]

    other_admin = await make_user(admin=True, admin_areas=["13"])
    await login(other_admin)
    assert (await client.get(f"/demandes/{application.id}")).status_code == 404


async def test_queries_do_not_grow_with_messages(client, login, world, monkeypatch):
    application = await demande(world)
    counter = QueryCounter(monkeypatch)

    async def queries_for_page() -> int:
        counter.count = 0
        response = await client.get(f"/demandes/{application.id}")
        assert response.status_code == 200
        return counter.count

    async def post(n: int) -> None:
        for i in range(n):
            author = world.caf_agent if i % 2 else world.aidant
            visibility = "instructors" if i % 5 == 4 else "public"
            if author is world.aidant:
                visibility = "public"
            await applications.post_answer(
                application.id, author, body=f"Message {i}", visibility=visibility
            )

    await login(world.caf_agent)
    await post(5)
    with_5 = await queries_for_page()
    await post(45)
    with_50 = await queries_for_page()
    assert with_5 == with_50
    # Session with viewer facts, demande facts, and the page in one statement: demande,
    # mandat, groups, participants, thread, files, invited names, the réponses types, the
    # invite form's lists, with the audit event and the seen mark as CTEs.
    assert with_50 <= 3
