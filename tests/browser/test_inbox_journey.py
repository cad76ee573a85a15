"""The inbox in real Chromium: tabs and search swap the list with htmx, push the URL, and the
back button restores the previous list; without JavaScript the same URLs are full pages
reached by plain links and a GET form. Every state visited passes the accessibility audit.

The live database is shared with other browser tests, which may add demandes: the tests rely
on the demo demandes (`aplus seed demo`) and on counts agreeing with the rows shown, never on
exact totals."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from support.browser import assert_accessible, log_in

ELODIE = "Aide au logement suspendue depuis deux mois"  # usager Élodie Dupont, to the CAF
PAUL = "Prime d'activité recalculée à tort"  # processed by the CAF
SOFIA = "RSA non versé malgré un dossier complet"  # answered by the CAF
NADIA = "Avis d'imposition introuvable"  # archived by the aidant
PAGE_SIZE = 25


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def has_sealed_search(page) -> bool:
    """The search is in the URL as a token, never as the words typed (often a name)."""
    return bool(query(page).get("recherche")) and "elodie" not in page.url.lower()


def tab_label(text: str) -> str:
    """A tab's name without its count badge."""
    return re.sub(r"[\s\d+]+$", "", text).strip()


async def current_tab(page) -> str:
    return tab_label(await page.locator(".aplus-tabs__tab[aria-current=page]").inner_text())


async def tab_count(page, label: str) -> int:
    badge = page.locator(".aplus-tabs__tab", has_text=label).locator(".fr-badge")
    return int(re.sub(r"\D", "", await badge.inner_text()))


async def subjects(page) -> list[str]:
    return await page.locator("#inbox-list tbody tr td:nth-child(2) a").all_inner_texts()


async def assert_counts_agree(page, label: str) -> None:
    """The active tab's badge, the summary and the rows say the same (on a first page)."""
    count = await tab_count(page, label)
    summary = await page.locator("#inbox-summary").inner_text()
    assert summary.startswith(f"{label} : {count} demande"), summary
    rows = await subjects(page)
    assert len(rows) == min(count, PAGE_SIZE), (count, rows)


async def wait_for_tab(page, label: str) -> None:
    await page.locator(".aplus-tabs__tab[aria-current=page]", has_text=label).wait_for()


async def assert_not_reloaded(page) -> None:
    assert await page.evaluate("() => window.__marker") == 1, "a full page load happened"


async def test_inbox_tabs_search_and_back_button_with_javascript(page, live_server):
    await log_in(page, live_server, "instructeur.caf@demo.aplus.localhost")
    await page.goto("/demandes")
    await page.wait_for_function("() => typeof window.htmx === 'object'")
    assert await current_tab(page) == "Nouvelles"
    assert ELODIE in await subjects(page)
    assert PAUL not in await subjects(page)
    await assert_counts_agree(page, "Nouvelles")
    await assert_accessible(page)
    await page.evaluate("() => { window.__marker = 1 }")

    # A tab: only the list is swapped, and the URL is pushed.
    await page.get_by_role("link", name=re.compile("^Traitées")).click()
    await page.wait_for_url(re.compile(r"onglet=traitees"))
    await wait_for_tab(page, "Traitées")
    assert PAUL in await subjects(page)
    assert ELODIE not in await subjects(page)
    await assert_counts_agree(page, "Traitées")
    await assert_not_reloaded(page)
    assert await page.locator("h1").count() == 1
    await assert_accessible(page)

    # A search, from Traitées: no Traitées demande matches, so the search opens the first tab
    # that holds a match (Nouvelles), where "elodie" finds Élodie Dupont's demande.
    await page.get_by_label("Rechercher dans mes demandes").fill("elodie")
    await page.get_by_role("button", name="Rechercher").click()
    await page.wait_for_url(re.compile(r"onglet=nouvelles&recherche="))
    await page.locator("#inbox-summary", has_text="pour « elodie »").wait_for()
    assert has_sealed_search(page)
    await wait_for_tab(page, "Nouvelles")
    assert ELODIE in await subjects(page)
    row = page.locator("#inbox-list tbody tr", has_text=ELODIE)
    assert "Élodie Dupont" in await row.inner_text()
    assert SOFIA not in await subjects(page)
    await assert_counts_agree(page, "Nouvelles")
    assert await tab_count(page, "Traitées") == 0
    await assert_not_reloaded(page)
    await assert_accessible(page)

    # The Traitées tab keeps the search: nothing there, and it says where the results are.
    await page.get_by_role("link", name=re.compile("^Traitées")).click()
    await page.wait_for_url(re.compile(r"onglet=traitees&recherche="))
    await wait_for_tab(page, "Traitées")
    assert has_sealed_search(page)
    assert PAUL not in await subjects(page)
    await assert_counts_agree(page, "Traitées")
    await page.get_by_text("Cette recherche trouve des demandes dans").wait_for()
    assert await page.get_by_label("Rechercher dans mes demandes").input_value() == "elodie"
    await assert_not_reloaded(page)
    await assert_accessible(page)

    # Back: each previous list comes back with its URL (htmx fetches it again, whole page).
    await page.go_back()
    await page.wait_for_url(re.compile(r"onglet=nouvelles&recherche="))
    await wait_for_tab(page, "Nouvelles")
    assert ELODIE in await subjects(page)
    await assert_counts_agree(page, "Nouvelles")
    assert await page.get_by_label("Rechercher dans mes demandes").input_value() == "elodie"
    await assert_accessible(page)

    await page.go_back()
    await page.wait_for_url(re.compile(r"onglet=traitees$"))
    # The URL changes at once; the list once htmx has fetched it (same tab, no search now).
    await page.locator(
        "#inbox-summary", has_text=re.compile(r"Traitées : \d+ demandes?\.\s*$")
    ).wait_for()
    await wait_for_tab(page, "Traitées")
    assert PAUL in await subjects(page)
    await assert_counts_agree(page, "Traitées")
    assert await page.get_by_label("Rechercher dans mes demandes").input_value() == ""
    assert await page.locator("h1").count() == 1
    assert await page.locator("header.fr-header").count() == 1
    await assert_accessible(page)

    await page.go_back()
    await page.wait_for_url(live_server.url + "/demandes")
    await wait_for_tab(page, "Nouvelles")
    assert ELODIE in await subjects(page)
    await assert_counts_agree(page, "Nouvelles")
    await assert_not_reloaded(page)
    assert await page.locator("h1").count() == 1
    await assert_accessible(page)

    # Forward works too, and the restored list is live: its tabs still swap.
    await page.go_forward()
    await page.wait_for_url(re.compile(r"onglet=traitees$"))
    await wait_for_tab(page, "Traitées")

    # Out to a demande (a real navigation) and back: the pushed URL is a full page on its own.
    # (Opening a processed demande moves it to no other tab: the demo data stays as it was.)
    async with page.expect_navigation():
        await page.get_by_role("link", name=PAUL).click()
    assert re.search(r"/demandes/[0-9a-f-]{36}$", page.url), page.url
    await assert_accessible(page)
    await page.go_back()
    await page.wait_for_url(re.compile(r"onglet=traitees$"))
    await wait_for_tab(page, "Traitées")
    assert PAUL in await subjects(page)
    await assert_counts_agree(page, "Traitées")
    await page.wait_for_function("() => typeof window.htmx === 'object'")
    await page.evaluate("() => { window.__marker = 1 }")

    await page.get_by_role("link", name=re.compile("^En cours")).click()
    await page.wait_for_url(re.compile(r"onglet=en-cours"))
    await wait_for_tab(page, "En cours")
    await assert_counts_agree(page, "En cours")
    await assert_not_reloaded(page)
    errors = [m for m in page.console_messages if m.startswith(("error", "pageerror"))]
    assert errors == []


async def open_inbox_without_javascript(page, live_server) -> None:
    """Log in as the demo aidant and follow the header link to the inbox (a full page)."""
    await log_in(page, live_server, "aidant@demo.aplus.localhost")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Mes demandes").first.click()
    assert page.url == live_server.url + "/demandes"
    assert await current_tab(page) == "Nouvelles"


async def test_inbox_tabs_without_javascript(page_nojs, live_server):
    page = page_nojs
    await open_inbox_without_javascript(page, live_server)
    tabs = await page.locator(".aplus-tabs__tab").all_inner_texts()
    assert [tab_label(t) for t in tabs] == ["Nouvelles", "En cours", "Archivées"]
    assert ELODIE in await subjects(page)
    await assert_counts_agree(page, "Nouvelles")
    await assert_accessible(page)

    # Tabs are plain links: each is a full page at its own URL.
    async with page.expect_navigation():
        await page.get_by_role("link", name=re.compile("^En cours")).click()
    assert query(page) == {"onglet": ["en-cours"]}
    assert await current_tab(page) == "En cours"
    assert {SOFIA, PAUL} <= set(await subjects(page))  # processed ones await the aidant here
    assert ELODIE not in await subjects(page)
    await assert_counts_agree(page, "En cours")
    await assert_accessible(page)

    async with page.expect_navigation():
        await page.get_by_role("link", name=re.compile("^Archivées")).click()
    assert query(page) == {"onglet": ["archivees"]}
    assert NADIA in await subjects(page)
    await assert_counts_agree(page, "Archivées")
    await assert_accessible(page)

    # The back button is the browser's own: the previous full page.
    await page.go_back()
    assert query(page) == {"onglet": ["en-cours"]}
    assert await current_tab(page) == "En cours"
    assert SOFIA in await subjects(page)


async def test_inbox_search_without_javascript(page_nojs, live_server):
    page = page_nojs
    await open_inbox_without_javascript(page, live_server)

    # The search form posts (its words stay out of URLs), then lands on a page of its own.
    await page.get_by_label("Rechercher dans mes demandes").fill("elodie")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Rechercher").click()
    assert query(page)["onglet"] == ["nouvelles"] and has_sealed_search(page)
    assert ELODIE in await subjects(page)
    assert "Élodie Dupont" in await page.locator("tbody tr", has_text=ELODIE).inner_text()
    await assert_counts_agree(page, "Nouvelles")
    await assert_accessible(page)

    # Another tab keeps the search: nothing archived matches.
    async with page.expect_navigation():
        await page.get_by_role("link", name=re.compile("^Archivées")).click()
    assert query(page)["onglet"] == ["archivees"] and has_sealed_search(page)
    assert NADIA not in await subjects(page)
    assert await page.get_by_label("Rechercher dans mes demandes").input_value() == "elodie"
    await assert_counts_agree(page, "Archivées")
    await assert_accessible(page)

    # "Effacer" drops the search and keeps the tab.
    async with page.expect_navigation():
        await page.get_by_role("link", name="Effacer").click()
    assert query(page) == {"onglet": ["archivees"]}
    assert NADIA in await subjects(page)
    assert await page.get_by_label("Rechercher dans mes demandes").input_value() == ""
    await assert_counts_agree(page, "Archivées")
    await assert_accessible(page)

    await page.go_back()
    assert query(page)["onglet"] == ["archivees"] and has_sealed_search(page)
    assert NADIA not in await subjects(page)
