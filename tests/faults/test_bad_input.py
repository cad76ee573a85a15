"""Each payload class of issue 10 item 3: a French error with the input kept, or a 400/404."""

from __future__ import annotations

import base64

from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user

from app.tables import Answer, Group, UserSession

pytest_plugins = ["support.demandes"]


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def test_a_nul_character_in_a_query_or_a_form_is_a_french_400(client, login, db):
    await login(await make_user(helper_in=[await make_group()]))
    response = await client.get("/demandes", params={"recherche": "a\x00b"})
    assert response.status_code == 400
    assert "caractères" in _page(response).select_one("main").get_text()
    response = await client.post_form("/connexion", {"email": "a\x00@caf.fr"})
    assert response.status_code == 400
    response = await client.get("/connexion/lien/abc%00def")
    assert response.status_code == 400


async def test_a_text_field_sent_as_a_file_part_is_a_400(client, login, world):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    await login(world.aidant)
    token = await client.csrf_token()
    response = await client.post(
        f"/demandes/{application.id}/reponses",
        data={"_csrf_token": token},
        files={"body": ("body.txt", b"Bonjour")},
    )
    assert response.status_code == 400
    assert await Answer.count().where(Answer.application == application.id) == 0


async def test_a_signature_over_300_characters_is_refused_before_anything_is_saved(
    client, login, world
):
    shared = await make_user(helper_in=[world.fs], collective=True)
    application = await make_application(by=shared, to=[world.caf], from_group=world.fs)
    await login(shared)
    before = await Answer.count().where(Answer.application == application.id)
    for _ in range(2):  # a retry saves nothing either
        response = await client.post_form(
            f"/demandes/{application.id}/reponses",
            {"body": "Voici le justificatif.", "signature": "S" * 301},
        )
        assert response.status_code == 400
        page = _page(response)
        assert "ne doit pas dépasser 300 caractères" in page.get_text()
        assert page.select_one("textarea[name=body]").get_text() == "Voici le justificatif."
    assert await Answer.count().where(Answer.application == application.id) == before
    assert not await UserSession.exists().where(UserSession.signature == "S" * 301)


async def test_a_damaged_flash_cookie_is_ignored(client):
    for value in ("%%%", base64.urlsafe_b64encode(b"5").decode(), "bnVsbA=="):
        client.cookies.set("aplus_flash", value, domain="testserver.local")
        assert (await client.get("/connexion")).status_code == 200


async def test_a_page_beyond_any_integer_is_an_empty_page(client, login, db):
    group = await make_group()
    await login(
        await make_user(helper_in=[group], manager_of=[group], admin=True, admin_areas=["75"])
    )
    for url in ("/admin/utilisateurs", "/admin/evenements", "/groupes"):
        response = await client.get(url, params={"page": "9" * 30})
        assert response.status_code == 200, url


async def test_dates_at_the_ends_of_the_calendar_are_a_french_error_on_the_events_log(
    client, login, db
):
    await login(await make_user(admin=True, admin_areas=["75"]))
    for day in ("0001-01-01", "9999-12-31"):
        response = await client.get("/admin/evenements", params={"du": day, "au": day})
        assert response.status_code == 422
        page = _page(response)
        assert "Date hors de la période possible" in page.get_text()
        assert page.select_one("input[name=du]")["value"] == day


async def test_a_binary_file_sent_to_the_csv_import_is_a_french_error(client, login, db):
    await login(await make_user(admin=True, admin_areas=["75"]))
    groups_before = await Group.count()
    token = await client.csrf_token()
    response = await client.post(
        "/admin/import",
        data={"_csrf_token": token, "operation": "confirmer"},
        files={"fichier": ("groupes.csv", b"PK\x03\x04\x00\x00\x01\xff" * 100)},
    )
    assert response.status_code == 422
    assert "n'est pas un fichier CSV" in _page(response).get_text()
    assert await Group.count() == groups_before


async def test_a_csv_cell_beyond_the_csv_module_limit_is_a_french_error(client, login, db):
    await login(await make_user(admin=True, admin_areas=["75"]))
    text = "groupe;organisme;departements\n" + "x" * 140_000 + ";caf;75\n"
    response = await client.post_form("/admin/import", {"csv": text, "operation": "verifier"})
    assert response.status_code == 422
    assert "pas un CSV lisible" in _page(response).get_text()
