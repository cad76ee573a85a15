"""Admin screens: groups, users, events log, pre-registration, CSV import — within scope."""

from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user

from app.domain import audit, sessions
from app.tables import AuditEvent, Group, Membership, User, UserSession


def _text(response):
    return BeautifulSoup(response.text, "html.parser").get_text(" ")


async def _admin(areas=("75",)):
    return await make_user(admin=True, admin_areas=list(areas))


async def test_admin_screens_refused_to_non_admins(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    await login(boss)
    for url in (
        "/admin",
        "/admin/groupes",
        "/admin/utilisateurs",
        "/admin/evenements",
        "/admin/preinscription",
        "/admin/import",
    ):
        assert (await client.get(url)).status_code == 403, url


async def test_groups_list_create_edit_delete(client, login):
    admin = await _admin()
    await make_group(name="CAF Paris")
    await make_group(name="CAF Lyon", areas=["69"])
    await login(admin)
    _, page = await client.page("/admin/groupes")
    assert "CAF Paris" in page.text and "CAF Lyon" not in page.text
    response = await client.post_form(
        "/admin/groupes",
        {"name": "MSA Paris", "organisation": "msa", "areas": "75", "network": "Réseau"},
    )
    assert response.status_code == 303
    group = await Group.objects().get(Group.name == "MSA Paris")
    assert (group.organisation, group.areas, group.network) == ("msa", ["75"], "Réseau")
    response = await client.post_form(
        f"/admin/groupes/{group.id}",
        {"name": "MSA Paris Nord", "organisation": "msa", "areas": "75"},
    )
    assert response.status_code == 303
    assert (await Group.objects().get(Group.id == group.id)).name == "MSA Paris Nord"
    response = await client.post_form(f"/admin/groupes/{group.id}/suppression")
    assert response.status_code == 303
    assert not await Group.exists().where(Group.id == group.id)
    codes = [r["code"] for r in await AuditEvent.select(AuditEvent.code)]
    assert {"group_created", "group_updated", "group_deleted"} <= set(codes)


async def test_group_form_errors_and_scope(client, login):
    admin = await _admin()
    lyon = await make_group(areas=["69"])
    await login(admin)
    response = await client.post_form(
        "/admin/groupes", {"name": "", "organisation": "nope", "areas": "69, 2X"}
    )
    assert response.status_code == 422
    text = _text(response)
    assert "Le nom du groupe est obligatoire." in text
    assert "Choisissez un organisme" in text
    assert "Département inconnu" in text
    response = await client.post_form(
        "/admin/groupes", {"name": "X", "organisation": "caf", "areas": "69"}
    )
    assert "Vous n'administrez pas" in _text(response)
    assert (await client.get(f"/admin/groupes/{lyon.id}")).status_code == 404


async def test_group_with_members_is_not_deleted(client, login):
    admin = await _admin()
    caf = await make_group()
    await make_user(helper_in=[caf])
    await login(admin)
    await client.post_form(f"/admin/groupes/{caf.id}/suppression")
    assert await Group.exists().where(Group.id == caf.id)
    _, page = await client.page(f"/admin/groupes/{caf.id}")
    assert "encore des membres" in page.text


async def test_edit_user_email_revokes_sessions_and_resets_cgu(client, login):
    admin = await _admin()
    caf = await make_group()
    agent = await make_user(helper_in=[caf], email="old@caf.fr")
    raw = await sessions.create_session(agent.id)
    await login(admin)
    response = await client.post_form(
        f"/admin/utilisateurs/{agent.id}",
        {
            "email": "New@caf.fr",
            "first_name": "A",
            "is_helper": "1",
            "is_instructor": "1",
            "is_admin": "1",
            "is_expert": "1",
        },
    )
    assert response.status_code == 303
    user = await User.objects().get(User.id == agent.id)
    assert user.email == "new@caf.fr" and user.cgu_version is None
    assert user.is_instructor and not user.is_admin and not user.is_expert
    assert await sessions.load_session_user(raw) is None
    assert (
        await UserSession.count().where(
            UserSession.revoked_at.is_null() & (UserSession.user == agent.id)
        )
        == 0
    )
    codes = [r["code"] for r in await AuditEvent.select(AuditEvent.code)]
    assert "user_email_changed" in codes


async def test_edit_user_errors(client, login):
    admin = await _admin()
    caf = await make_group()
    agent = await make_user(helper_in=[caf])
    await make_user(email="taken@caf.fr", helper_in=[caf])
    await login(admin)
    response = await client.post_form(f"/admin/utilisateurs/{agent.id}", {"email": "bad"})
    assert response.status_code == 422 and "n'est pas valide" in _text(response)
    response = await client.post_form(f"/admin/utilisateurs/{agent.id}", {"email": "taken@caf.fr"})
    assert response.status_code == 422 and "utilise déjà cette adresse" in _text(response)


async def test_user_outside_scope_is_404(client, login):
    admin = await _admin()
    agent = await make_user(helper_in=[await make_group(areas=["69"])])
    await login(admin)
    assert (await client.get(f"/admin/utilisateurs/{agent.id}")).status_code == 404
    _, page = await client.page("/admin/utilisateurs")
    assert agent.email not in page.text


async def test_user_groups_disable_and_delete(client, login):
    admin = await _admin()
    caf, cpam = await make_group(), await make_group(organisation="cpam")
    agent = await make_user(helper_in=[caf])
    await login(admin)
    await client.post_form(
        f"/admin/utilisateurs/{agent.id}/groupes", {"group": str(cpam.id), "is_manager": "1"}
    )
    assert await Membership.exists().where(
        (Membership.user == agent.id)
        & (Membership.group == cpam.id)
        & Membership.is_manager.eq(True)
    )
    await client.post_form(f"/admin/utilisateurs/{agent.id}/groupes/{caf.id}/retrait")
    assert not await Membership.exists().where(
        (Membership.user == agent.id) & (Membership.group == caf.id)
    )
    await client.post_form(
        f"/admin/utilisateurs/{agent.id}", {"email": agent.email, "disabled": "1"}
    )
    assert (await User.objects().get(User.id == agent.id)).disabled_at is not None
    response = await client.post_form(f"/admin/utilisateurs/{agent.id}/suppression")
    assert response.status_code == 303
    assert not await User.exists().where(User.id == agent.id)


async def test_used_account_is_not_deleted(client, login):
    admin = await _admin()
    caf = await make_group()
    aidant = await make_user(helper_in=[caf])
    await make_application(by=aidant, to=[caf])
    await login(admin)
    await client.post_form(f"/admin/utilisateurs/{aidant.id}/suppression")
    assert await User.exists().where(User.id == aidant.id)


async def test_events_log_filters_and_pagination(client, login):
    admin = await _admin()
    caf = await make_group()
    agent = await make_user(helper_in=[caf])
    outsider = await make_user(helper_in=[await make_group(areas=["69"])])
    for _ in range(55):
        await audit.record(audit.Event.LOGIN_SUCCEEDED, actor_id=agent.id)
    await audit.record(audit.Event.LOGOUT, actor_id=agent.id)
    await audit.record(audit.Event.LOGOUT, actor_id=outsider.id)
    await login(admin)
    _, page = await client.page("/admin/evenements")
    assert len(page.select("tbody tr")) == 50
    assert page.find("a", string="Page suivante")
    _, page = await client.page(f"/admin/evenements?code=logout&utilisateur={agent.id}")
    assert len(page.select("tbody tr")) == 1
    _, page = await client.page(f"/admin/evenements?utilisateur={outsider.id}")
    assert "Aucun événement." in page.text
    _, page = await client.page("/admin/evenements?du=2000-01-01&au=2000-01-02")
    assert "Aucun événement." in page.text
    response = await client.get("/admin/evenements?du=hier&code=zzz")
    assert response.status_code == 422
    assert "Date invalide" in _text(response) and "Type d'événement inconnu" in _text(response)


async def test_preregistration_dry_run_then_confirm(client, login, mailbox, run_jobs):
    admin = await _admin()
    fs = await make_group(organisation="france-services")
    existing = await make_user(email="deja@fs.fr")
    await login(admin)
    text = "nouveau@fs.fr\npas-un-email\ndeja@fs.fr, nouveau@fs.fr"
    response, page = await client.page("/admin/preinscription")
    response = await client.post_form(
        "/admin/preinscription", {"group": str(fs.id), "emails": text, "operation": "verifier"}
    )
    assert response.status_code == 200
    table = BeautifulSoup(response.text, "html.parser").find(id="verification").get_text(" ")
    assert "Nouveau compte" in table and "n'est pas valide" in table and "En double" in table
    assert not await User.exists().where(User.email == "nouveau@fs.fr")
    response = await client.post_form(
        "/admin/preinscription", {"group": str(fs.id), "emails": text, "operation": "confirmer"}
    )
    assert response.status_code == 303
    user = await User.objects().get(User.email == "nouveau@fs.fr")
    assert user.is_helper
    assert await Membership.exists().where(
        (Membership.user == existing.id) & (Membership.group == fs.id)
    )
    await run_jobs()
    assert mailbox.to("nouveau@fs.fr")


CSV_OK = (
    "groupe;organisme;departements;email;prenom;nom;qualite;telephone;instructeur;responsable\n"
    "CAF Nord;caf;75;ana@caf.fr;Ana;Lima;Agent;0612345678;oui;oui\n"
    "CAF Nord;caf;75;bob@caf.fr;Bob;;;;non;non\n"
    "MSA Sud;msa;75;;;;;;;\n"
)


async def test_import_review_writes_nothing_until_confirmed(client, login):
    admin = await _admin()
    await login(admin)
    response = await client.post_form("/admin/import", {"csv": CSV_OK, "operation": "verifier"})
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert page.find(id="revue") and page.find("button", value="confirmer")
    assert not await Group.exists().where(Group.name == "CAF Nord")
    assert not await User.exists().where(User.email == "ana@caf.fr")
    response = await client.post_form("/admin/import", {"csv": CSV_OK, "operation": "confirmer"})
    assert response.status_code == 303
    group = await Group.objects().get(Group.name == "CAF Nord")
    ana = await User.objects().get(User.email == "ana@caf.fr")
    assert ana.is_instructor and ana.phone == "06 12 34 56 78"
    assert await Membership.exists().where(
        (Membership.user == ana.id)
        & (Membership.group == group.id)
        & Membership.is_manager.eq(True)
    )
    assert await Group.exists().where(Group.name == "MSA Sud")


async def test_import_review_shows_line_errors_and_refuses_confirmation(client, login):
    admin = await _admin()
    await login(admin)
    bad = CSV_OK + "CAF Lyon;caf;69;x@caf.fr;;;;;;\nX;nope;75;pas-email;;;;;;\n"
    response = await client.post_form("/admin/import", {"csv": bad, "operation": "verifier"})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert "hors de vos départements" in page.find(id="ligne-5").get_text()
    line6 = page.find(id="ligne-6").get_text()
    assert "Organisme inconnu" in line6 and "n'est pas valide" in line6
    assert page.find("button", value="confirmer") is None
    response = await client.post_form("/admin/import", {"csv": bad, "operation": "confirmer"})
    assert response.status_code == 422
    assert not await Group.exists().where(Group.name == "CAF Nord")
    assert not await User.exists().where(User.email == "ana@caf.fr")


async def test_import_file_upload_and_missing_columns(client, login):
    admin = await _admin()
    await login(admin)
    token = await client.csrf_token()
    response = await client.post(
        "/admin/import",
        data={"_csrf_token": token, "operation": "verifier"},
        files={"fichier": ("import.csv", CSV_OK.encode("utf-8-sig"), "text/csv")},
    )
    assert response.status_code == 200 and "ana@caf.fr" in response.text
    response = await client.post_form("/admin/import", {"csv": "email\na@b.fr\n"})
    assert response.status_code == 422 and "Colonnes manquantes" in _text(response)


async def test_admin_pages_render(client, login):
    admin = await _admin()
    caf = await make_group()
    agent = await make_user(helper_in=[caf])
    await login(admin)
    for url in (
        "/admin",
        "/admin/groupes?q=caf",
        "/admin/groupes/nouveau",
        f"/admin/groupes/{caf.id}",
        f"/admin/utilisateurs?q={agent.email}",
        f"/admin/utilisateurs/{agent.id}",
        "/admin/import",
        "/admin/preinscription",
    ):
        response, page = await client.page(url)
        assert response.status_code == 200, url
        assert len(page.find_all("h1")) == 1, url
    _, page = await client.page(f"/admin/utilisateurs/{agent.id}")
    assert page.find("input", attrs={"name": "is_admin"}) is None
    assert page.find("input", attrs={"name": "is_expert"}) is None


async def test_admin_granting_instructor_role_or_group_gives_open_demandes(client, login):
    from app.tables import Participation

    admin = await _admin()
    caf, cpam = await make_group(), await make_group("cpam")
    aidant = await make_user(helper_in=[await make_group("france-services")])
    open_caf = await make_application(by=aidant, to=[caf])
    open_cpam = await make_application(by=aidant, to=[cpam])
    agent = await make_user(member_of=[caf], email="future.instructeur@caf.fr")
    await login(admin)

    async def demandes_of(user) -> set:
        rows = await Participation.select(Participation.application).where(
            Participation.user == user.id
        )
        return {r["application"] for r in rows}

    assert await demandes_of(agent) == set()
    response = await client.post_form(
        f"/admin/utilisateurs/{agent.id}",
        {"email": agent.email, "first_name": "A", "last_name": "B", "is_instructor": "1"},
    )
    assert response.status_code == 303
    assert await demandes_of(agent) == {open_caf.id}

    response = await client.post_form(
        f"/admin/utilisateurs/{agent.id}/groupes", {"group": str(cpam.id)}
    )
    assert response.status_code == 303
    assert await demandes_of(agent) == {open_caf.id, open_cpam.id}
