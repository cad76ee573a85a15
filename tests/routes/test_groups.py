"""Mes groupes: members, deactivation, inline edits, account creation, texts, exports."""

import csv
import io

from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user
from openpyxl import load_workbook

from app.tables import AuditEvent, Group, Membership, Participation, User

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/groupes"}


def _text(response):
    return BeautifulSoup(response.text, "html.parser").get_text(" ")


async def _codes():
    return [r["code"] for r in await AuditEvent.select(AuditEvent.code)]


# --- Mes groupes ---------------------------------------------------------------------------


async def test_my_groups_lists_members_of_my_groups_only(client, login):
    caf = await make_group(name="CAF de Paris")
    other = await make_group(name="CPAM Marseille", organisation="cpam", areas=["13"])
    me = await make_user(helper_in=[caf], qualite="Conseillère")
    colleague = await make_user(instructor_in=[caf], email="collegue@caf.fr")
    await make_user(instructor_in=[other], email="stranger@cpam.fr")
    await login(me)
    response, page = await client.page("/groupes")
    assert response.status_code == 200
    assert page.h1.text == "Mes groupes"
    assert page.find(id=f"groupe-{caf.id}") is not None
    assert page.find(id=f"groupe-{other.id}") is None
    row = page.find(id=f"membre-{caf.id}-{colleague.id}")
    assert "collegue@caf.fr" in row.text and "Instructeur" in row.text
    assert "Conseillère" in page.find(id=f"membre-{caf.id}-{me.id}").text
    assert "stranger@cpam.fr" not in _text(response)


async def test_area_manager_sees_groups_of_scope_and_observer_cannot_add(client, login):
    from app.tables import ManagerScope

    caf = await make_group(name="CAF 75")
    cpam = await make_group(organisation="cpam", name="CPAM 75")
    manager = await make_user()
    await ManagerScope(user=manager.id, role="area_manager", organisation="caf", area="75").save()
    observer = await make_user()
    await ManagerScope(user=observer.id, role="observer", organisation=None, area="75").save()
    await login(manager)
    _, page = await client.page("/groupes")
    assert page.find(id=f"groupe-{caf.id}") and not page.find(id=f"groupe-{cpam.id}")
    assert (await client.get(f"/groupes/{cpam.id}")).status_code == 404
    await login(observer)
    _, page = await client.page(f"/groupes/{cpam.id}")
    assert page.find("form", action=f"/groupes/{cpam.id}/membres") is None
    target = await make_user(email="x@exemple.gouv.fr")
    response = await client.post_form(f"/groupes/{cpam.id}/membres", {"email": target.email})
    assert response.status_code == 403


async def test_group_outside_scope_is_404_and_audited(client, login):
    caf = await make_group()
    other = await make_group(areas=["13"])
    me = await make_user(helper_in=[caf])
    await login(me)
    assert (await client.get(f"/groupes/{other.id}")).status_code == 404
    response = await client.post_form(f"/groupes/{other.id}/membres", {"email": "a@b.fr"})
    assert response.status_code == 404
    assert "not_found_in_scope" in await _codes()


async def test_admin_opens_group_of_their_areas_only(client, login):
    paris = await make_group(areas=["75"])
    lyon = await make_group(areas=["69"])
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    assert (await client.get(f"/groupes/{paris.id}")).status_code == 200
    assert (await client.get(f"/groupes/{lyon.id}")).status_code == 404


async def test_disabled_members_behind_a_toggle(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    gone = await make_user(helper_in=[caf], email="parti@caf.fr")
    await User.update({User.disabled_at: gone.created_at}).where(User.id == gone.id)
    await login(me)
    response, page = await client.page("/groupes")
    assert "parti@caf.fr" not in _text(response)
    toggle = page.find("a", href=lambda h: h and "desactives=1" in h)
    assert toggle["href"].startswith(f"/groupes/{caf.id}?desactives=1")
    response, page = await client.page(f"/groupes/{caf.id}?desactives=1")
    assert "parti@caf.fr" in page.find(id=f"membres-desactives-{caf.id}").text
    # htmx gets the block alone.
    response = await client.get(f"/groupes/{caf.id}?desactives=1", headers=HX)
    assert "<html" not in response.text and f'id="groupe-{caf.id}"' in response.text
    assert "parti@caf.fr" in _text(response)


# --- adding, deactivating, reactivating ----------------------------------------------------


async def test_any_member_adds_an_existing_account(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    other = await make_user(email="Nouveau@CAF.fr")
    await login(me)
    response = await client.post_form(
        f"/groupes/{caf.id}/membres", {"email": " nouveau@caf.fr ", "retour": "/groupes"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/groupes"
    assert await Membership.exists().where(
        (Membership.group == caf.id) & (Membership.user == other.id)
    )
    assert "member_added" in await _codes()


async def test_adding_unknown_or_duplicate_email_shows_error(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf], email="moi@caf.fr")
    await login(me)
    response, page = await client.page(f"/groupes/{caf.id}")
    response = await client.post_form(f"/groupes/{caf.id}/membres", {"email": "inconnu@caf.fr"})
    assert response.status_code == 422
    assert "Aucun compte n'existe" in _text(response)
    response = await client.post_form(
        f"/groupes/{caf.id}/membres", {"email": "moi@caf.fr"}, headers=HX
    )
    assert response.status_code == 200
    assert "fait déjà partie du groupe" in _text(response)
    response = await client.post_form(f"/groupes/{caf.id}/membres", {"email": "pas une adresse"})
    assert "n'est pas valide" in _text(response)


async def test_adding_an_instructor_asks_to_confirm_access_to_open_demandes(client, login):
    caf = await make_group()
    aidants = await make_group(organisation="france-services")
    aidant = await make_user(helper_in=[aidants])
    me = await make_user(helper_in=[caf])
    await make_application(by=aidant, to=[caf])
    await make_application(by=aidant, to=[caf])
    instructor = await make_user(instructor_in=[await make_group()], email="i@caf.fr")
    await login(me)
    response = await client.post_form(f"/groupes/{caf.id}/membres", {"email": "i@caf.fr"})
    assert response.status_code == 200
    assert "pourra lire 2 demandes ouvertes" in _text(response)
    assert not await Membership.exists().where(
        (Membership.group == caf.id) & (Membership.user == instructor.id)
    )
    response = await client.post_form(
        f"/groupes/{caf.id}/membres", {"email": "i@caf.fr", "confirm_instructor": "1"}
    )
    assert response.status_code == 303
    assert await Participation.count().where(Participation.user == instructor.id) == 2


async def test_deactivate_colleague_with_one_group_disables_account(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    colleague = await make_user(helper_in=[caf])
    await login(me)
    response = await client.post_form(
        f"/groupes/{caf.id}/membres/{colleague.id}/desactivation", headers=HX
    )
    assert response.status_code == 200
    assert "Le compte a été désactivé." in _text(response)
    assert "data-aplus-focus" in response.text
    user = await User.objects().get(User.id == colleague.id)
    assert user.disabled_at is not None
    response = await client.post_form(f"/groupes/{caf.id}/membres/{colleague.id}/reactivation")
    assert response.status_code == 303
    user = await User.objects().get(User.id == colleague.id)
    assert user.disabled_at is None
    codes = await _codes()
    assert "user_disabled" in codes and "user_reactivated" in codes


async def test_deactivate_colleague_with_other_groups_removes_from_group(client, login):
    caf, other = await make_group(), await make_group()
    me = await make_user(helper_in=[caf])
    colleague = await make_user(helper_in=[caf, other])
    await login(me)
    response = await client.post_form(f"/groupes/{caf.id}/membres/{colleague.id}/desactivation")
    assert response.status_code == 303
    assert not await Membership.exists().where(
        (Membership.group == caf.id) & (Membership.user == colleague.id)
    )
    assert (await User.objects().get(User.id == colleague.id)).disabled_at is None


async def test_last_responsable_cannot_be_removed(client, login):
    caf = await make_group(name="CAF Paris")
    me = await make_user(helper_in=[caf])
    boss = await make_user(manager_of=[caf])
    await login(me)
    response = await client.post_form(f"/groupes/{caf.id}/membres/{boss.id}/desactivation")
    assert response.status_code == 303
    _, page = await client.page(f"/groupes/{caf.id}")
    assert "dernier responsable du groupe « CAF Paris »" in page.text
    assert (await User.objects().get(User.id == boss.id)).disabled_at is None
    response = await client.post_form(
        f"/groupes/{caf.id}/membres/{boss.id}/desactivation", headers=HX
    )
    assert "dernier responsable" in _text(response)


async def test_member_of_another_group_cannot_deactivate(client, login):
    caf, other = await make_group(), await make_group()
    me = await make_user(helper_in=[other])
    colleague = await make_user(helper_in=[caf])
    await login(me)
    response = await client.post_form(f"/groupes/{caf.id}/membres/{colleague.id}/desactivation")
    assert response.status_code == 404
    # Nothing changed: the colleague is still an active member of their group.
    assert (await User.objects().get(User.id == colleague.id)).disabled_at is None
    assert await Membership.exists().where(
        (Membership.group == caf.id) & (Membership.user == colleague.id)
    )
    assert not await AuditEvent.exists().where(
        (AuditEvent.target_user_id == colleague.id)
        & AuditEvent.code.is_in(["member_removed", "user_disabled"])
    )


# --- inline editing ------------------------------------------------------------------------


async def test_responsable_edits_a_row_inline(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    member = await make_user(helper_in=[caf])
    await login(boss)
    url = f"/groupes/{caf.id}/membres/{member.id}"
    response = await client.get(url + "/edition", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr")
    assert f'id="membre-{caf.id}-{member.id}"' in response.text
    assert 'hx-target="closest tr"' in response.text
    response = await client.post_form(
        url,
        {
            "first_name": "Anne",
            "last_name": "Durand",
            "qualite": "Agent d'accueil",
            "phone": "0612345678",
            "is_collective": "1",
        },
        headers=HX,
    )
    assert response.status_code == 200 and response.text.lstrip().startswith("<tr")
    assert "Anne Durand" in _text(response) and "data-aplus-focus" in response.text
    user = await User.objects().get(User.id == member.id)
    assert (user.first_name, user.phone, user.is_collective) == ("Anne", "06 12 34 56 78", True)
    assert "member_updated" in await _codes()


async def test_inline_edit_without_javascript(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    member = await make_user(helper_in=[caf])
    await login(boss)
    url = f"/groupes/{caf.id}/membres/{member.id}"
    response, page = await client.page(url + "/edition")
    assert page.find("form", id=f"f-membre-{caf.id}-{member.id}")["action"] == url
    assert page.h1 is not None
    response = await client.post_form(url, {"first_name": "Luc", "phone": "12"})
    assert response.status_code == 422
    soup_text = _text(response)
    assert "numéro de téléphone n'est pas valide" in soup_text
    assert 'value="Luc"' in response.text
    response = await client.post_form(url, {"first_name": "Luc"})
    assert response.status_code == 303


async def test_inline_edit_errors_shown_in_the_row(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    # Issue 9: nobody edits their own row any more; the group's admin unticks the only boss.
    await login(await make_user(admin=True, admin_areas=["75"]))
    response = await client.post_form(
        f"/groupes/{caf.id}/membres/{boss.id}", {"first_name": "Moi"}, headers=HX
    )
    assert response.status_code == 200 and response.text.lstrip().startswith("<tr")
    assert "dernier responsable" in _text(response)
    assert "fr-fieldset--error" in response.text


async def test_granting_instructor_role_asks_for_confirmation(client, login):
    caf = await make_group()
    aidant = await make_user(helper_in=[await make_group(organisation="france-services")])
    boss = await make_user(manager_of=[caf])
    member = await make_user(helper_in=[caf])
    await make_application(by=aidant, to=[caf])
    archived = await make_application(by=aidant, to=[caf])
    from app.domain import applications

    await applications.archive(archived.id, aidant, "oui")
    await login(boss)
    url = f"/groupes/{caf.id}/membres/{member.id}"
    response = await client.post_form(url, {"is_instructor": "1"}, headers=HX)
    assert "pourra lire 1 demande ouverte" in _text(response)
    assert not (await User.objects().get(User.id == member.id)).is_instructor
    response = await client.post_form(
        url, {"is_instructor": "1", "confirm_instructor": "1"}, headers=HX
    )
    assert "Instructeur" in _text(response)
    assert (await User.objects().get(User.id == member.id)).is_instructor
    assert await Participation.count().where(Participation.user == member.id) == 1
    assert "instructor_access_granted" in await _codes()


async def test_plain_member_cannot_edit_rows(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    other = await make_user(helper_in=[caf])
    await login(me)
    assert (await client.get(f"/groupes/{caf.id}/membres/{other.id}/edition")).status_code == 403
    before = await User.objects().get(User.id == other.id)
    response = await client.post_form(f"/groupes/{caf.id}/membres/{other.id}", {"qualite": "x"})
    assert response.status_code == 403
    # Nothing changed: the row keeps its values and no edit was logged.
    after = await User.objects().get(User.id == other.id)
    assert after.qualite == before.qualite != "x"
    assert not await AuditEvent.exists().where(
        (AuditEvent.target_user_id == other.id) & (AuditEvent.code == "member_updated")
    )


# --- creating accounts ---------------------------------------------------------------------


def _rows(*rows):
    data = {"lignes": str(len(rows))}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"l{i}-{key}"] = value
    return data


async def test_create_several_accounts_sends_welcome_emails(client, login, mailbox, run_jobs):
    caf = await make_group(name="CAF Paris")
    boss = await make_user(manager_of=[caf])
    await login(boss)
    _, page = await client.page(f"/groupes/{caf.id}/comptes/nouveaux?lignes=3")
    assert len(page.select("fieldset.aplus-new-account")) == 3
    data = _rows(
        {"first_name": "Ana", "last_name": "Lima", "email": "ana@caf.fr", "is_manager": "1"},
        {"email": "bob@caf.fr", "phone": "06 11 22 33 44", "is_collective": "1"},
        {},
    )
    response = await client.post_form(f"/groupes/{caf.id}/comptes", data)
    assert response.status_code == 303
    ana = await User.objects().get(User.email == "ana@caf.fr")
    assert await Membership.exists().where(
        (Membership.user == ana.id) & (Membership.group == caf.id) & (Membership.is_manager == True)  # noqa: E712
    )
    assert (await User.objects().get(User.email == "bob@caf.fr")).is_collective
    await run_jobs()
    assert mailbox.to("ana@caf.fr") and mailbox.to("bob@caf.fr")
    assert (await _codes()).count("user_created") == 2


async def test_create_accounts_all_or_nothing_with_row_errors(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    await make_user(email="deja@caf.fr")
    await login(boss)
    data = _rows(
        {"first_name": "Ok", "email": "ok@caf.fr"},
        {"email": "pas-un-email"},
        {"email": "OK@caf.fr"},
        {"email": "deja@caf.fr"},
    )
    (response,) = [await client.post_form(f"/groupes/{caf.id}/comptes", data, headers=HX)]
    assert response.status_code == 200
    from bs4 import BeautifulSoup

    page = BeautifulSoup(response.text, "html.parser")
    assert page.find(id=f"nc-{caf.id}-l0-email-erreur") is None
    assert "n'est pas valide" in page.find(id=f"nc-{caf.id}-l1-email-erreur").text
    assert "ligne 1" in page.find(id=f"nc-{caf.id}-l2-email-erreur").text
    assert "existe déjà" in page.find(id=f"nc-{caf.id}-l3-email-erreur").text
    assert page.find(id=f"nc-{caf.id}-l0-first_name")["value"] == "Ok"
    assert page.find(id=f"nc-{caf.id}-l1-email").has_attr("data-aplus-focus")
    assert not await User.exists().where(User.email == "ok@caf.fr")
    response = await client.post_form(f"/groupes/{caf.id}/comptes", data)
    assert response.status_code == 422


async def test_add_a_row_keeps_input(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    await login(boss)
    data = _rows({"email": "a@caf.fr"})
    data["operation"] = "ajouter_ligne"
    response = await client.post_form(f"/groupes/{caf.id}/comptes", data, headers=HX)
    assert 'value="a@caf.fr"' in response.text and f'id="nc-{caf.id}-l1-email"' in response.text
    assert not await User.exists().where(User.email == "a@caf.fr")


async def test_new_instructors_confirm_then_read_open_demandes(client, login):
    caf = await make_group()
    aidant = await make_user(helper_in=[await make_group(organisation="france-services")])
    await make_application(by=aidant, to=[caf])
    boss = await make_user(manager_of=[caf])
    await login(boss)
    data = _rows({"email": "inst@caf.fr", "is_instructor": "1"})
    response = await client.post_form(f"/groupes/{caf.id}/comptes", data)
    assert response.status_code == 200 and "pourront lire 1 demande ouverte" in _text(response)
    assert not await User.exists().where(User.email == "inst@caf.fr")
    response = await client.post_form(
        f"/groupes/{caf.id}/comptes", {**data, "confirm_instructor": "1"}, headers=HX
    )
    assert response.headers["HX-Retarget"] == f"#groupe-{caf.id}"
    user = await User.objects().get(User.email == "inst@caf.fr")
    assert user.is_instructor
    assert await Participation.count().where(Participation.user == user.id) == 1


async def test_only_responsables_create_accounts(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    await login(me)
    assert (await client.get(f"/groupes/{caf.id}/comptes/nouveaux")).status_code == 403
    response = await client.post_form(f"/groupes/{caf.id}/comptes", _rows({"email": "x@y.fr"}))
    assert response.status_code == 403
    # Nothing changed: no account was created, the group keeps its one member.
    assert not await User.exists().where(User.email == "x@y.fr")
    assert await Membership.count().where(Membership.group == caf.id) == 1
    assert not await AuditEvent.exists().where(
        (AuditEvent.target_group_id == caf.id) & (AuditEvent.code == "user_created")
    )


# --- the group's texts ---------------------------------------------------------------------


async def test_responsable_edits_group_texts_with_preview(client, login):
    caf = await make_group(name="CAF")
    boss = await make_user(manager_of=[caf])
    await login(boss)
    url = f"/groupes/{caf.id}/presentation"
    response, page = await client.page(url)
    assert response.status_code == 200 and page.find(id="apercu")
    data = {
        "name": "CAF de Paris",
        "short_description": "Prestations familiales",
        "public_note": "Joindre l'attestation.",
        "bal_email": "BAL@caf.fr",
    }
    response = await client.post_form(url, {**data, "operation": "apercu"})
    assert "Joindre l'attestation." in _text(response)
    assert (await Group.objects().get(Group.id == caf.id)).name == "CAF"
    response = await client.post_form(url, data)
    assert response.status_code == 303
    group = await Group.objects().get(Group.id == caf.id)
    assert (group.name, group.bal_email) == ("CAF de Paris", "bal@caf.fr")
    assert "group_updated" in await _codes()


async def test_group_texts_validation_errors(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    await login(boss)
    response = await client.post_form(
        f"/groupes/{caf.id}/presentation", {"name": "", "bal_email": "nope"}
    )
    assert response.status_code == 422
    assert "Le nom du groupe est obligatoire." in _text(response)
    assert "L'adresse e-mail n'est pas valide" in _text(response)


async def test_member_or_observer_cannot_edit_texts(client, login):
    caf = await make_group()
    me = await make_user(helper_in=[caf])
    await login(me)
    assert (await client.get(f"/groupes/{caf.id}/presentation")).status_code == 403


# --- exports -------------------------------------------------------------------------------


async def test_export_csv_and_xlsx(client, login):
    caf = await make_group(name="CAF Paris")
    other = await make_group(name="Autre")
    me = await make_user(helper_in=[caf], manager_of=[caf], email="moi@caf.fr", first_name="Léa")
    await make_user(instructor_in=[caf], email="inst@caf.fr")
    await make_user(helper_in=[other], email="ailleurs@x.fr")
    await login(me)
    response = await client.get("/groupes/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Groupe", "Prénom", "Nom", "Qualité", "E-mail"]
    emails = {r[4] for r in rows[1:]}
    assert emails == {"moi@caf.fr", "inst@caf.fr"}
    assert any(r[1] == "Léa" for r in rows)
    response = await client.get("/groupes/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Groupe"
    assert {v[4] for v in values[1:]} == {"moi@caf.fr", "inst@caf.fr"}
    assert "users_exported" in await _codes()


async def test_pages_need_login(client):
    response = await client.get("/groupes")
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_group_pages_have_one_h1_and_unique_ids(client, login):
    caf, cpam = await make_group(), await make_group(organisation="cpam")
    boss = await make_user(manager_of=[caf, cpam])
    colleague = await make_user(helper_in=[caf, cpam])
    await login(boss)
    for url in (
        "/groupes",
        f"/groupes/{caf.id}",
        f"/groupes/{caf.id}/presentation",
        f"/groupes/{caf.id}/comptes/nouveaux?lignes=2",
        f"/groupes/{caf.id}/membres/{colleague.id}/edition",
    ):
        response, page = await client.page(url)
        assert response.status_code == 200, url
        assert len(page.find_all("h1")) == 1, url
        ids = [tag["id"] for tag in page.find_all(id=True)]
        assert len(ids) == len(set(ids)), url
        for field in page.find_all(["input", "select", "textarea"]):
            if field.get("type") in ("hidden", "submit"):
                continue
            assert page.find("label", attrs={"for": field.get("id")}), (url, field)
