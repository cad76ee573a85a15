"""Edits record which fields changed, by name; no value ever reaches audit_event."""

from factories import make_group, make_user

from app.tables import AuditEvent


async def _events(code: str) -> list[list[str]]:
    rows = await AuditEvent.select(AuditEvent.changed_fields).where(AuditEvent.code == code)
    return [r["changed_fields"] for r in rows]


async def _whole_log() -> str:
    """Every column of every event, as PostgreSQL prints the rows."""
    rows = await AuditEvent.raw("SELECT e::text AS line FROM audit_event e")
    return "\n".join(r["line"] for r in rows)


async def test_member_row_edit_records_only_the_changed_names(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf], member_of=[caf])
    member = await make_user(helper_in=[caf], qualite="Agent", phone="0102030405")
    await login(boss)
    response = await client.post_form(
        f"/groupes/{caf.id}/membres/{member.id}",
        {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "qualite": "Cheffe d'équipe Zéphyrine",
            "phone": "06 12 34 56 78",
        },
    )
    assert response.status_code == 303
    assert await _events("member_updated") == [["qualite", "phone"]]
    log = await _whole_log()
    for value in ("Zéphyrine", "06 12 34 56 78", "0612345678", "Agent"):
        assert value not in log


async def test_group_texts_edit_records_the_changed_names(client, login):
    caf = await make_group(name="CAF Paris")
    boss = await make_user(manager_of=[caf], member_of=[caf])
    await login(boss)
    response = await client.post_form(
        f"/groupes/{caf.id}/presentation",
        {
            "name": "CAF Paris",
            "short_description": "Accueil Quiproquo",
            "public_note": "",
            "bal_email": "bal.secrete@caf.fr",
        },
    )
    assert response.status_code == 303
    assert await _events("group_updated") == [["short_description", "bal_email"]]
    log = await _whole_log()
    assert "Quiproquo" not in log and "bal.secrete" not in log


async def test_admin_group_edit_records_the_changed_names(client, login):
    admin = await make_user(admin=True, admin_areas=["75", "92"])
    group = await make_group(name="MSA Paris", organisation="msa", areas=["75"])
    await login(admin)
    response = await client.post_form(
        f"/admin/groupes/{group.id}",
        {"name": "MSA Paris", "organisation": "msa", "areas": "75, 92", "network": "Réseau Z"},
    )
    assert response.status_code == 303
    assert await _events("group_updated") == [["areas", "network"]]
    assert "Réseau Z" not in await _whole_log()


async def test_admin_user_edit_records_email_names_roles_and_groups(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    caf = await make_group()
    cpam = await make_group(organisation="cpam")
    user = await make_user(helper_in=[caf], email="avant@caf.fr", last_name="Ancien")
    await login(admin)
    response = await client.post_form(
        f"/admin/utilisateurs/{user.id}",
        {
            "email": "apres.nouvelle@caf.fr",
            "first_name": user.first_name,
            "last_name": "Nouveaunom",
            "qualite": "",
            "phone": "",
            "is_helper": "1",
            "is_instructor": "1",
        },
    )
    assert response.status_code == 303
    assert await _events("user_email_changed") == [["email"]]
    [updated] = await _events("user_updated")
    assert set(updated) == {
        "email",
        "last_name",
        "is_instructor",
        "cgu_version",
        "cgu_accepted_at",
    }
    await client.post_form(
        f"/admin/utilisateurs/{user.id}/groupes", {"group": str(cpam.id), "is_manager": "1"}
    )
    await client.post_form(f"/admin/utilisateurs/{user.id}/groupes/{caf.id}/retrait")
    assert await _events("member_added") == [["groups", "is_manager"]]
    assert await _events("member_removed") == [["groups"]]
    log = await _whole_log()
    for value in ("avant@caf.fr", "apres.nouvelle", "Nouveaunom", "Ancien"):
        assert value not in log


async def test_profile_edit_records_the_changed_names(client, login):
    user = await make_user(helper_in=[await make_group()], qualite="Agent", phone="01 23 45 67 89")
    await login(user)
    response = await client.post_form(
        "/profil",
        {
            "first_name": user.first_name,
            "last_name": "Valeurinconnue",
            "qualite": "Agent",
            "phone": "01 23 45 67 89",
        },
    )
    assert response.status_code == 303
    assert await _events("profile_updated") == [["last_name"]]
    assert "Valeurinconnue" not in await _whole_log()


async def test_events_log_shows_the_changed_fields(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    caf = await make_group()
    user = await make_user(helper_in=[caf])
    await login(admin)
    await client.post_form(
        f"/admin/utilisateurs/{user.id}",
        {
            "email": user.email,
            "first_name": "Autre",
            "last_name": user.last_name,
            "qualite": "",
            "phone": "0611223344",
            "is_helper": "1",
        },
    )
    _, page = await client.page("/admin/evenements?code=user_updated")
    [event] = await AuditEvent.select(AuditEvent.id).where(AuditEvent.code == "user_updated")
    row = page.find(id=f"evenement-{event['id']}")
    assert "prénom, téléphone" in row.text
    assert "0611223344" not in page.text and "06 11 22 33 44" not in page.text
