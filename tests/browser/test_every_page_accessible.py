"""Pages no journey visits still pass the accessibility audit: the admin screens, the
profile, the CGU text, the creation form, and a demande as an admin sees it (anonymised)."""

import re

from support.browser import assert_accessible, log_in

ADMIN_PAGES = [
    "/admin",
    "/admin/groupes",
    "/admin/groupes/nouveau",
    "/admin/utilisateurs",
    "/admin/evenements",
    "/admin/preinscription",
    "/admin/import",
    "/profil",
    "/groupes",
    "/cgu/texte",
]


async def test_admin_screens_and_account_pages_are_accessible(page, live_server):
    await log_in(page, live_server, "admin@demo.aplus.localhost")
    for path in ADMIN_PAGES:
        response = await page.goto(path)
        assert response.status == 200, path
        await assert_accessible(page)

    # One group and one user page, reached through the lists.
    await page.goto("/admin/groupes")
    await page.get_by_role("link", name="CAF de Paris", exact=True).first.click()
    await page.wait_for_url(re.compile(r"/admin/groupes/[0-9a-f-]{36}$"))
    await assert_accessible(page)
    await page.goto("/admin/utilisateurs")
    await page.locator("a[href^='/admin/utilisateurs/']").first.click()
    await page.wait_for_url(re.compile(r"/admin/utilisateurs/[0-9a-f-]{36}$"))
    await assert_accessible(page)


async def test_creation_form_and_responsable_pages_are_accessible(page, live_server):
    await log_in(page, live_server, "aidant@demo.aplus.localhost")
    for path in ("/demandes/nouvelle", "/groupes", "/demandes?onglet=archivees"):
        response = await page.goto(path)
        assert response.status == 200, path
        await assert_accessible(page)
    # The group page of a responsable, with its aidant's-eye preview.
    await page.goto("/groupes")
    await page.locator("a[href$='/presentation']").first.click()
    await page.wait_for_url(re.compile(r"/presentation$"))
    await assert_accessible(page)
