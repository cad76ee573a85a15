"""A search covers every tab of the inbox (issue 15, item 3): the tab counts are those of the
search, a search submitted from a tab without a match opens the first tab holding one (without
JavaScript through the 303, with htmx in the list and the pushed URL), the summary names each
tab's results, and a NIR or phone number typed with spaces, or in one piece, finds the demande
created with it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from factories import make_application, make_group, make_user
from support.demande_forms import VALID_NIR
from support.queries import QueryCounter

from app.domain import applications

HX = {"HX-Request": "true"}


@pytest.fixture
async def people(db):
    caf = await make_group("caf", name="CAF de Paris")
    fs = await make_group("france-services", name="France Services 18e")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    return caf, fs, aidant, instructeur


async def _search(client, terms: str, tab: str = "nouvelles", headers=None):
    return await client.post_form(
        "/demandes/recherche", {"recherche": terms, "onglet": tab}, headers=headers or {}
    )


def _tab(url: str) -> str:
    return parse_qs(urlsplit(url).query)["onglet"][0]


async def test_a_search_opens_the_first_tab_holding_a_match(client, login, people):
    caf, fs, aidant, instructeur = people
    archived = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await applications.archive(archived.id, aidant, "oui")
    other = await make_application(by=aidant, to=[caf], usager=("Marc", "Petit"))
    await login(instructeur)

    # Without JavaScript: from "Nouvelles", where only Marc is, to "Archivées".
    response = await _search(client, "dupont")
    assert response.status_code == 303
    url = response.headers["location"]
    assert _tab(url) == "archivees" and "dupont" not in url.lower()
    _, soup = await client.page(url)
    assert [r["id"] for r in soup.select("tbody tr")] == [f"demande-{archived.id}"]
    assert soup.select_one(".aplus-tabs [aria-current=page]").contents[0].strip() == "Archivées"
    summary = " ".join(soup.find(id="inbox-summary").get_text().split())
    assert "Résultats par onglet : Nouvelles 0, En cours 0, En souffrance 0," in summary
    assert "Archivées 1." in summary

    # With htmx: the list of that tab at once, and the pushed URL names it.
    swapped = await _search(client, "dupont", headers=HX)
    assert swapped.status_code == 200
    assert _tab(swapped.headers["hx-push-url"]) == "archivees"
    assert f"demande-{archived.id}" in swapped.text and f"demande-{other.id}" not in swapped.text

    # A tab that holds a match stays open, even when another tab comes first.
    response = await _search(client, "petit", tab="archivees")
    assert _tab(response.headers["location"]) == "nouvelles"
    response = await _search(client, "dupont", tab="traitees")
    assert _tab(response.headers["location"]) == "archivees"
    await applications.post_answer(other.id, aidant, body="Dupont aussi", visibility="public")
    response = await _search(client, "dupont", tab="archivees")
    assert _tab(response.headers["location"]) == "archivees"

    # No match anywhere: the requested tab, and no list of other tabs.
    response = await _search(client, "introuvable", tab="traitees")
    _, soup = await client.page(response.headers["location"])
    assert _tab(response.headers["location"]) == "traitees"
    assert "trouve des demandes dans" not in soup.get_text()


async def test_an_empty_tab_links_the_tabs_holding_the_search(client, login, people):
    caf, fs, aidant, instructeur = people
    archived = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await applications.archive(archived.id, aidant, "oui")
    await login(instructeur)
    url = (await _search(client, "dupont")).headers["location"]
    # The viewer then clicks an empty tab: it says where the results are, with the search kept.
    en_cours = url.replace("onglet=archivees", "onglet=en-cours")
    _, soup = await client.page(en_cours)
    assert "Aucune demande dans cet onglet pour cette recherche." in soup.get_text()
    link = soup.find("a", string="Archivées (1)")
    assert _tab(link["href"]) == "archivees"
    assert (
        parse_qs(urlsplit(link["href"]).query)["recherche"]
        == parse_qs(urlsplit(url).query)["recherche"]
    )


async def test_a_search_stays_in_the_viewers_scope_in_every_tab(client, login, people):
    caf, fs, aidant, instructeur = people
    cpam = await make_group("cpam", name="CPAM de Paris")
    elsewhere = await make_application(by=aidant, to=[cpam], usager=("Élodie", "Dupont"))
    await applications.archive(elsewhere.id, aidant, "oui")
    await login(instructeur)
    response = await _search(client, "dupont")
    assert _tab(response.headers["location"]) == "nouvelles"
    _, soup = await client.page(response.headers["location"])
    assert soup.select("tbody tr") == []
    assert "Archivées 0." in soup.find(id="inbox-summary").get_text()


def _with_fields(nir: str = VALID_NIR, phone: str = "06 12 34 56 78") -> list[dict]:
    # As the creation form stores them: the NIR in one piece, the phone in pairs.
    return [{"code": "nir", "value": nir}, {"code": "telephone", "value": phone}]


@pytest.mark.parametrize(
    "typed",
    [
        " ".join([VALID_NIR[0], VALID_NIR[1:3], VALID_NIR[3:5], VALID_NIR[5:7],
                  VALID_NIR[7:10], VALID_NIR[10:13], VALID_NIR[13:]]),
        VALID_NIR[:7] + " " + VALID_NIR[7:],
        VALID_NIR,
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
    ],
)  # fmt: skip
async def test_a_nir_or_phone_finds_the_demande_with_or_without_spaces(
    client, login, people, typed
):
    caf, fs, aidant, instructeur = people
    found = await applications.create_application(
        creator=aidant, creator_group=fs.id, area="75", subject="Prestation suspendue",
        usager_first_name="Élodie", usager_last_name="Dupont", usager_birth_date=None,
        description="Situation.", groups=[caf.id], usager_fields=_with_fields(),
    )  # fmt: skip
    other_nir = "2" + VALID_NIR[1:]
    await applications.create_application(
        creator=aidant, creator_group=fs.id, area="75", subject="Prestation suspendue",
        usager_first_name="Marc", usager_last_name="Petit", usager_birth_date=None,
        description="Situation.", groups=[caf.id],
        usager_fields=_with_fields(nir=other_nir, phone="06 12 34 56 79"),
    )  # fmt: skip
    await login(instructeur)
    response = await _search(client, typed)
    _, soup = await client.page(response.headers["location"])
    assert [r["id"] for r in soup.select("tbody tr")] == [f"demande-{found.id}"]
    assert typed.replace(" ", "") not in response.headers["location"]


async def test_a_search_submitted_with_htmx_stays_within_five_statements(
    client, login, people, monkeypatch
):
    caf, fs, aidant, instructeur = people
    archived = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await applications.archive(archived.id, aidant, "oui")
    await login(instructeur)
    token = await client.csrf_token()
    counter = QueryCounter(monkeypatch)
    response = await client.post(
        "/demandes/recherche",
        data={"recherche": "dupont", "onglet": "nouvelles", "_csrf_token": token},
        headers=HX,
    )
    assert f"demande-{archived.id}" in response.text
    # Session, own groups, the search estimate, the counts and the page: the tab is picked
    # from the counts, not by listing each tab.
    assert counter.count <= 5
