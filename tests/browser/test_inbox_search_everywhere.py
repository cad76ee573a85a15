"""A search finds a demande wherever it is (issue 15, item 3), in real Chromium with JavaScript
on (htmx swaps the list and pushes a URL) and off (the form posts, the 303 lands on a page): a
new aidant creates a demande typing the usager's NIR with spaces, goes to the "Archivées" tab,
searches the NIR typed with other spaces and lands on "Nouvelles" with the demande, the
summary giving the results per tab. The search words never reach the URL.

Set APLUS_SCREENSHOTS=<folder> to keep the result page at 1024 and 1280 px.
"""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import expect
from support.browser import accept_cgu, assert_accessible, log_in, run_step
from support.testenv import ROOT

SCREENSHOTS = os.environ.get("APLUS_SCREENSHOTS")
NIR = "185037511800164"
NIR_AS_TYPED_AT_CREATION = "1 85 03 75 118 001 64"
NIR_AS_SEARCHED = "1 850375 118 00164"


async def _new_aidant(page, server) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"aidant-{tag}@fs.fr"
    run_step(
        ["user", "create", "--email", email, "--first-name", "Inès", "--last-name", f"Aid{tag}",
         "--role", "aidant", "--group", "France Services Paris 18e"],
        server.env, ROOT,
    )  # fmt: skip
    await log_in(page, server, email)
    await accept_cgu(page, server, "Conseillère France Services")


async def _create_demande(page, subject: str, javascript: bool) -> None:
    await page.goto("/demandes/nouvelle")
    picker = page.locator("#group-picker")
    await page.get_by_label("Filtrer les organismes par thème").select_option("social")
    if not javascript:
        await page.get_by_role("button", name="Mettre à jour la liste des organismes").click()
    await expect(picker).to_contain_text("CAF de Paris")
    await picker.locator("label", has_text="CAF de Paris").click()
    await page.locator("#subject").fill(subject)
    await page.locator("#usager_first_name").fill("Yasmine")
    await page.locator("#usager_last_name").fill("Boulanger")
    await page.locator("#usager_birth_date").fill("1985-03-02")
    await page.get_by_label("Identifiant CAF").fill("7654321")
    await page.get_by_label("Numéro de sécurité sociale").fill(NIR_AS_TYPED_AT_CREATION)
    await page.locator("label", has_text="Mandat papier signé par l'usager").click()
    await page.get_by_label("Description de la situation").fill("Versements arrêtés.")
    await page.locator("label[for=attestation]").click()
    await page.get_by_role("button", name="Envoyer la demande").click()
    await page.wait_for_url(re.compile(r"/demandes/[0-9a-f-]{36}$"))


@pytest.mark.parametrize("javascript", [True, False])
async def test_a_nir_typed_with_spaces_finds_the_demande_in_another_tab(
    open_page, live_server, javascript
):
    page = await open_page(javascript=javascript)
    await page.set_viewport_size({"width": 1024, "height": 768})
    await _new_aidant(page, live_server)
    subject = f"Aide au logement interrompue {uuid.uuid4().hex[:8]}"
    await _create_demande(page, subject, javascript)

    await page.goto("/demandes?onglet=archivees")
    await expect(page.locator("#inbox-list tbody tr", has_text=subject)).to_have_count(0)
    await page.get_by_label("Rechercher dans mes demandes").fill(NIR_AS_SEARCHED)
    await page.get_by_role("button", name="Rechercher").click()
    await page.wait_for_url(re.compile(r"onglet=nouvelles&recherche="))
    await expect(page.locator(".aplus-tabs__tab[aria-current=page]")).to_contain_text("Nouvelles")
    rows = page.locator("#inbox-list tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(subject)
    summary = page.locator("#inbox-summary")
    await expect(summary).to_contain_text(
        "Résultats par onglet : Nouvelles 1, En cours 0, Archivées 0."
    )
    query = parse_qs(urlsplit(page.url).query)
    assert query["recherche"] and all(NIR[:5] not in v for v in query["recherche"])
    assert "850375" not in page.url
    await assert_accessible(page)
    # A full-page screenshot resizes the page, and the DSFR's scripts then trip the CSP check:
    # the page without JavaScript is the same HTML.
    if SCREENSHOTS and not javascript:
        for width, height in ((1024, 768), (1280, 800)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.screenshot(path=f"{SCREENSHOTS}/recherche-{width}.png", full_page=True)

    # Back to "Archivées" with the search kept: empty, and it says where the result is.
    await page.get_by_role("link", name=re.compile("^Archivées")).click()
    await page.wait_for_url(re.compile(r"onglet=archivees&recherche="))
    await expect(page.get_by_text("Cette recherche trouve des demandes dans")).to_be_visible()
    await page.get_by_role("link", name="Nouvelles (1)").click()
    await page.wait_for_url(re.compile(r"onglet=nouvelles&recherche="))
    await expect(page.locator("#inbox-list tbody tr")).to_contain_text(subject)
    await assert_accessible(page)
