"""The legal pages every public service links from its footer, and small wording promises of
issue 15 (readable NIR, "à l'instant", htmx confirmation of an inline member edit)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from app import clock, formatting
from app.domain import inbox
from app.settings import get_settings


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/accessibilite", "Déclaration d'accessibilité"),
        ("/mentions-legales", "Mentions légales"),
        ("/donnees-personnelles", "Données personnelles"),
    ],
)
async def test_legal_pages_are_public_and_linked_from_every_footer(client, path, title):
    response = await client.get(path)
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert page.h1.get_text(strip=True) == title
    footer_links = {a["href"] for a in page.select("footer a")}
    assert {"/accessibilite", "/mentions-legales", "/donnees-personnelles"} <= footer_links


async def test_accessibility_statement_gives_its_status_and_how_it_is_tested(client):
    page = BeautifulSoup((await client.get("/accessibilite")).text, "html.parser")
    text = " ".join(page.get_text().split())
    # Without a full RGAA audit the RGAA requires "non conforme"; the footer says the same.
    assert "Administration+ est non conforme" in text
    assert "axe-core" in text and "sans JavaScript" in text
    assert page.select_one("footer a[href='/accessibilite']").get_text() == (
        "Accessibilité : non conforme"
    )


async def test_personal_data_page_states_the_retention_rules_from_the_settings(client):
    page = BeautifulSoup((await client.get("/donnees-personnelles")).text, "html.parser")
    rows = {
        tr.select("td")[0].get_text(strip=True).split(" (")[0]: tr.select("td")[1].get_text(
            strip=True
        )
        for tr in page.select("#durees-de-conservation tbody tr")
    }
    settings = get_settings()
    assert (settings.files_retention_days, settings.personal_data_retention_days) == (15, 90)
    assert settings.events_retention_days == 365
    assert rows["Fichiers joints"].startswith("15 jours après leur envoi")
    assert rows["Données personnelles d'une demande"] == "90 jours après son archivage"
    assert rows["Journal des accès"] == "365 jours après l'événement"


def test_nir_is_shown_in_groups_and_other_values_as_typed():
    assert formatting.nir("185037511800164") == "1 85 03 75 118 001 64"
    assert formatting.nir("2 85 03 2A 118 001 64") == "2 85 03 2A 118 001 64"
    assert formatting.usager_value("nir", "185037511800164") == "1 85 03 75 118 001 64"
    assert formatting.usager_value("phone", "0612345678") == "0612345678"
    assert formatting.nir("12345") == "12345"


def test_just_now_reads_a_l_instant():
    now = clock.now()
    assert inbox.age_label(now - timedelta(seconds=20), now) == "à l'instant"
    assert inbox.age_label(now - timedelta(minutes=5), now) == "il y a 5 min"
    assert formatting.age(now) == "à l'instant"


async def test_demande_page_shows_the_nir_grouped(client, login, db):
    from factories import make_application, make_group, make_user

    from app.tables import Application

    fs = await make_group("france-services")
    caf = await make_group("caf")
    aidant = await make_user(helper_in=[fs])
    application = await make_application(by=aidant, to=[caf], from_group=fs)
    await Application.update(
        {Application.usager_fields: [{"code": "nir", "value": "185037511800164"}]}
    ).where(Application.id == application.id)
    await login(aidant)
    page = BeautifulSoup((await client.get(f"/demandes/{application.id}")).text, "html.parser")
    assert "1 85 03 75 118 001 64" in page.select_one(".aplus-usager").get_text()


async def test_htmx_member_edit_sends_its_confirmation(client, login, db):
    from factories import make_group, make_user

    group = await make_group("france-services")
    manager = await make_user(helper_in=[group], manager_of=[group])
    member = await make_user(helper_in=[group], first_name="Léa", last_name="Roux")
    await login(manager)
    response = await client.post_form(
        f"/groupes/{group.id}/membres/{member.id}",
        {
            "first_name": "Léa",
            "last_name": "Rousseau",
            "qualite": "",
            "phone": "",
            "is_helper": "1",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr")
    trigger = json.loads(response.headers["hx-trigger"])
    assert trigger == {"aplusNotice": "Les modifications ont été enregistrées."}
