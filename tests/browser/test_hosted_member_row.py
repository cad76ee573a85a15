"""A responsable adds an instructeur of another département to their group in real Chromium:
the row offers "Modifier" for the group's role only and "Retirer du groupe", never the
account's name, roles or "Désactiver" (issue 9). The edit row passes the accessibility audit."""

from __future__ import annotations

import os
import uuid

from playwright.async_api import expect
from support.browser import accept_cgu, assert_accessible, log_in, run_step
from support.testenv import ROOT

SCREENSHOTS = os.environ.get("APLUS_SCREENSHOTS")  # a folder, to look at the rows by eye


async def test_a_hosted_member_row_offers_only_the_group_role(page, live_server):
    tag = uuid.uuid4().hex[:8]
    boss, guest = f"resp-{tag}@fs.fr", f"gaelle-{tag}@caf93.fr"
    run_step(
        ["user", "create", "--email", guest, "--first-name", "Gaëlle", "--last-name", f"Leroy{tag}",
         "--role", "instructeur", "--group", "CAF de la Seine-Saint-Denis"],
        live_server.env, ROOT,
    )  # fmt: skip
    run_step(
        ["user", "create", "--email", boss, "--first-name", "Rémi", "--last-name", f"Resp{tag}",
         "--role", "aidant", "--group", "France Services Paris 18e", "--manager"],
        live_server.env, ROOT,
    )  # fmt: skip
    await log_in(page, live_server, boss)
    # Accepting the CGU lands the responsable where they work (their inbox).
    await accept_cgu(page, live_server, "Responsable")

    await page.goto("/groupes")
    block = page.locator("section.aplus-group", has_text="France Services Paris 18e")
    await block.get_by_label("Ajouter un compte existant au groupe").fill(guest)
    await block.get_by_role("button", name="Ajouter", exact=True).click()
    row = page.locator("tbody tr", has_text=guest)
    await expect(row).to_be_visible()
    await expect(
        row.get_by_role("button", name=f"Retirer du groupe Gaëlle Leroy{tag}")
    ).to_be_visible()
    await expect(row.get_by_role("button", name=f"Désactiver Gaëlle Leroy{tag}")).to_have_count(0)
    # My own row: no "Modifier" (my roles are others' to give).
    mine = page.locator("tbody tr", has_text=boss)
    await expect(mine.get_by_role("link", name="Modifier")).to_have_count(0)

    await row.get_by_role("link", name=f"Modifier Gaëlle Leroy{tag}").click()
    editing = page.locator("tr.aplus-editing", has_text=guest)
    await expect(editing.get_by_label("Responsable")).to_be_focused()
    await expect(editing.get_by_label("Prénom")).to_have_count(0)
    await expect(editing.get_by_label("Instructeur")).to_have_count(0)
    await expect(editing).to_contain_text("Compte géré ailleurs")
    await assert_accessible(page)
    if SCREENSHOTS:
        for width in (1024, 1280):
            await page.set_viewport_size({"width": width, "height": 768})
            await editing.scroll_into_view_if_needed()
            await page.screenshot(path=f"{SCREENSHOTS}/hosted-row-{width}.png")
