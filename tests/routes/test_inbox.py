"""`/demandes` through real requests: tabs as links, filters as a GET form, htmx fragments,
bounded queries, and a CSV export without personal data."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import make_application, make_group, make_user
from support.queries import QueryCounter

from app.domain import applications


@pytest.fixture
async def people(db):
    caf = await make_group("caf", name="CAF de Paris")
    cpam = await make_group("cpam", name="CPAM de Paris")
    fs = await make_group("france-services", name="France Services 18e")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf, cpam])
    return caf, cpam, fs, aidant, instructeur


async def test_login_is_required(client):
    response = await client.get("/demandes", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/connexion")


async def test_page_shows_tabs_with_counts_and_rows(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    app = await make_application(
        by=aidant, to=[caf], subject="RSA suspendu", usager=("Élodie", "Dupont")
    )
    await make_application(by=aidant, to=[cpam], subject="Carte Vitale")
    await login(instructeur)
    response, soup = await client.page("/demandes")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert soup.h1.get_text(strip=True) == "Mes demandes"
    tabs = soup.select("nav.aplus-tabs a")
    assert [t.contents[0].strip() for t in tabs] == [
        "Nouvelles",
        "En cours",
        "En souffrance",
        "Traitées",
        "Archivées",
    ]
    assert [t.select_one(".fr-badge").get_text() for t in tabs] == ["2", "0", "0", "0", "0"]
    assert tabs[0]["aria-current"] == "page"
    assert tabs[1]["href"] == "/demandes?onglet=en-cours"
    assert tabs[1]["hx-get"] == tabs[1]["href"]
    rows = soup.select("tbody tr")
    assert len(rows) == 2
    link = soup.find("a", string="RSA suspendu")
    assert link["href"] == f"/demandes/{app.id}"
    row = soup.find(id=f"demande-{app.id}")
    assert "Élodie Dupont" in row.get_text()
    assert "Jamais ouverte" in row.get_text()
    assert "aplus-unopened" in row["class"]
    # The htmx attributes live on the swapped list, so every link inside inherits them.
    wrapper = soup.find(id="inbox-list")
    assert wrapper["hx-target"] == "#inbox-list" and wrapper["hx-push-url"] == "true"


async def test_aidant_tabs_and_creator_words(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    app = await make_application(by=aidant, to=[caf])
    await applications.post_answer(app.id, instructeur, body="Traité", marks_processed=True)
    await login(aidant)
    _, soup = await client.page("/demandes?onglet=en-cours")
    assert [t.contents[0].strip() for t in soup.select("nav.aplus-tabs a")] == [
        "Nouvelles",
        "En cours",
        "Archivées",
    ]
    assert soup.select_one("tbody .fr-badge").get_text() == "À archiver"
    assert soup.find("a", string="Nouvelle demande")["href"] == "/demandes/nouvelle"


async def test_htmx_gets_only_the_list(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    await make_application(by=aidant, to=[caf])
    await login(instructeur)
    response, soup = await client.page("/demandes?onglet=traitees", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert soup.find("h1") is None and soup.find("header") is None
    assert soup.find(id="inbox-list") is not None
    assert soup.select_one("[aria-current=page]").contents[0].strip() == "Traitées"
    # A history restore (back button with htmx) wants the whole page.
    response, soup = await client.page(
        "/demandes?onglet=traitees",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert soup.find("h1") is not None


async def search_url(client, terms: str, tab: str = "nouvelles") -> str:
    """Post the search form like a browser without JavaScript; the inbox URL it leads to."""
    response = await client.post_form("/demandes/recherche", {"recherche": terms, "onglet": tab})
    assert response.status_code == 303
    return response.headers["location"]


async def test_search_is_posted_and_its_terms_never_appear_in_urls(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    elodie = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await make_application(by=aidant, to=[cpam], usager=("Marc", "Petit"))
    await login(instructeur)
    _, soup = await client.page("/demandes")
    form = soup.find("form", attrs={"role": "search"})
    assert form["method"] == "post" and form["action"] == "/demandes/recherche"
    assert form["hx-post"] == "/demandes/recherche"
    assert soup.find("label", attrs={"for": "inbox-search"})
    labels = [label.get_text(strip=True) for label in form.select(".fr-checkbox-group label")]
    assert labels == ["CAF de Paris (1)", "CPAM de Paris (1)"]

    url = await search_url(client, "elodie")
    assert "elodie" not in url.lower()
    response, soup = await client.page(url)
    assert [r["id"] for r in soup.select("tbody tr")] == [f"demande-{elodie.id}"]
    assert soup.find(id="inbox-search")["value"] == "elodie"
    # Tab and page links keep the (sealed) search.
    href = soup.select("nav.aplus-tabs a")[1]["href"]
    query = parse_qs(urlsplit(href).query)
    assert (
        query["onglet"] == ["en-cours"]
        and query["recherche"] == parse_qs(urlsplit(url).query)["recherche"]
    )
    assert "elodie" not in response.text.split('id="inbox-search"')[0].lower()

    # htmx: the list comes back at once, and the URL pushed holds no term either.
    swapped = await client.post_form(
        "/demandes/recherche",
        {"recherche": "elodie", "onglet": "nouvelles"},
        headers={"HX-Request": "true"},
    )
    assert swapped.status_code == 200
    assert "elodie" not in swapped.headers["hx-push-url"].lower()
    assert f"demande-{elodie.id}" in swapped.text


async def test_a_search_token_opens_only_for_its_user_and_not_when_forged(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await login(instructeur)
    url = await search_url(client, "elodie")
    colleague = await make_user(instructor_in=[caf])
    await login(colleague)
    _, soup = await client.page(url)
    assert soup.find(id="inbox-search")["value"] == ""
    assert "Cette recherche a expiré" in soup.get_text()
    _, soup = await client.page("/demandes?recherche=elodie")
    assert soup.find(id="inbox-search")["value"] == ""


async def test_group_filter_ignores_malformed_ids(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    await make_application(by=aidant, to=[cpam], usager=("Marc", "Petit"))
    await login(instructeur)
    _, soup = await client.page(f"/demandes?groupe={cpam.id}&groupe=pas-un-id")
    assert len(soup.select("tbody tr")) == 1
    assert soup.find("input", attrs={"value": str(cpam.id)}).has_attr("checked")


async def test_pagination_links_walk_the_inbox(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    for _ in range(27):
        await make_application(by=aidant, to=[caf])
    await login(instructeur)
    _, soup = await client.page("/demandes")
    assert len(soup.select("tbody tr")) == 25
    next_link = soup.find("a", string="Page suivante")
    assert soup.find("a", string="Page précédente") is None
    _, soup2 = await client.page(next_link["href"])
    assert len(soup2.select("tbody tr")) == 2
    assert soup2.find("a", string="Page suivante") is None
    _, back = await client.page(soup2.find("a", string="Page précédente")["href"])
    assert [r["id"] for r in back.select("tbody tr")] == [r["id"] for r in soup.select("tbody tr")]
    # A garbled cursor falls back to the first page.
    response = await client.get("/demandes?apres=zzz")
    assert response.status_code == 200


@pytest.mark.parametrize("tab", ["nouvelles", "en-souffrance"])
async def test_queries_do_not_grow_with_rows(client, login, people, monkeypatch, tab):
    caf, cpam, fs, aidant, instructeur = people
    counter = QueryCounter(monkeypatch)

    async def queries_for_page() -> int:
        counter.count = 0
        response = await client.get(url)
        assert response.status_code == 200
        return counter.count

    await login(instructeur)
    url = (await search_url(client, "prestation", tab)).replace("onglet=nouvelles", f"onglet={tab}")
    apps = [await make_application(by=aidant, to=[caf, cpam]) for _ in range(5)]
    for app in apps:
        await applications.post_answer(
            app.id, instructeur, body="Message", visibility="instructors"
        )
    with_5 = await queries_for_page()
    for _ in range(45):
        await make_application(by=aidant, to=[caf])
    with_50 = await queries_for_page()
    assert with_5 == with_50
    # Session with the viewer's facts, own groups, the search estimate, the page and the counts.
    assert with_50 <= 5


async def test_csv_export_has_metadata_and_no_personal_data(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    app = await make_application(
        by=aidant,
        to=[caf, cpam],
        subject="Sujet très personnel",
        usager=("Élodie", "Dupont"),
        description="Description confidentielle",
    )
    await applications.post_answer(app.id, instructeur, body="Réponse secrète")
    await applications.post_answer(app.id, instructeur, body="Fini", marks_processed=True)
    await applications.archive(app.id, aidant, "oui")
    await login(aidant)
    response = await client.get("/demandes/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    text = response.text.lstrip("\ufeff")
    for personal in (
        "Élodie",
        "Dupont",
        "personnel",
        "confidentielle",
        "secrète",
        "Fini",
        aidant.email,
        instructeur.email,
        aidant.last_name,
        instructeur.last_name,
    ):
        assert personal not in text
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == str(app.id)
    assert row["statut"] == "Archivée"
    assert row["groupes"] == "CAF de Paris | CPAM de Paris"
    assert row["utilite"] == "oui" and row["non_pertinente"] == "non"
    assert row["date_archivage"] and row["delai_premiere_reponse_heures_ouvrees"]
    assert row["delai_resolution_heures_ouvrees"]


async def test_csv_export_covers_only_my_scope(client, login, people):
    caf, cpam, fs, aidant, instructeur = people
    mine = await make_application(by=aidant, to=[caf])
    other = await make_user(helper_in=[fs])
    await make_application(by=other, to=[cpam])
    await login(aidant)
    text = (await client.get("/demandes/export.csv")).text
    assert str(mine.id) in text
    assert len(text.strip().splitlines()) == 2


async def test_big_tabs_show_a_lower_bound(client, login, people, monkeypatch):
    from app.domain import inbox_counts

    caf, cpam, fs, aidant, instructeur = people
    monkeypatch.setattr(inbox_counts, "COUNT_CAP", 3)
    for _ in range(4):
        await make_application(by=aidant, to=[caf])
    await login(instructeur)
    _, soup = await client.page("/demandes")
    badges = [t.select_one(".fr-badge").get_text() for t in soup.select("nav.aplus-tabs a")]
    # None is late: En souffrance's own count is exact.
    assert badges == ["3+", "0", "0", "0", "0"]
    assert len(soup.select("tbody tr")) == 4


async def test_late_demandes_are_counted_beyond_the_newest(client, login, people, monkeypatch):
    """Late demandes are the oldest open ones: counted apart from the newest `cap` rows of
    their status, "En souffrance" gives their number, not a "0+" read off the newest."""
    from datetime import timedelta

    from app import clock
    from app.domain import inbox_counts

    caf, cpam, fs, aidant, instructeur = people
    monkeypatch.setattr(inbox_counts, "COUNT_CAP", 3)
    for _ in range(2):
        await make_application(by=aidant, to=[caf], created_at=clock.now() - timedelta(days=20))
    for _ in range(4):
        await make_application(by=aidant, to=[caf])
    await login(instructeur)
    _, soup = await client.page("/demandes")
    badges = [t.select_one(".fr-badge").get_text() for t in soup.select("nav.aplus-tabs a")]
    # Nouvelles: the 2 late and the first 3 of the 4 others (a lower bound); En souffrance: 2.
    assert badges == ["5+", "0", "2", "0", "0"]
    _, late = await client.page("/demandes?onglet=en-souffrance")
    assert len(late.select("tbody tr")) == 2
