"""The admin grants an area manager scope in real Chromium, an error first; every page visited
passes the accessibility audit."""

import uuid

from support.browser import assert_accessible, create_account, log_in

from app.domain.demo import demo_email


async def test_admin_grants_a_scope_after_an_error(page_nojs, live_server):
    page = page_nojs
    email = f"territoire-{uuid.uuid4().hex[:8]}@caf.fr"
    create_account(live_server, email, "aidant", group="France Services Paris 18e")
    await log_in(page, live_server, demo_email("admin"))
    # Issue 15, item 4: an admin lands on the admin home, not on the public home page.
    await page.wait_for_url(live_server.url + "/admin")

    await page.goto(f"/admin/utilisateurs?q={email}")
    await page.get_by_role("link", name=email).click()
    await page.get_by_role("heading", name="Périmètres de responsable de territoire").wait_for()
    await assert_accessible(page)

    await page.get_by_label("Rôle").select_option("area_manager")
    await page.get_by_label("Organisme").select_option("caf")
    await page.get_by_role("button", name="Ajouter ce périmètre").click()
    error = page.locator("#perimetre-area-erreur")
    await error.wait_for()
    assert "ligne de commande" in await error.inner_text()
    await assert_accessible(page)

    await page.get_by_label("Département").select_option("75")
    await page.get_by_role("button", name="Ajouter ce périmètre").click()
    await page.get_by_text("Le périmètre a été ajouté.").wait_for()
    row = page.locator("#perimetres-table tbody tr").first
    assert "Responsable de territoire" in await row.inner_text()
    await assert_accessible(page)
