"""The national observer's "Mes groupes" search in real Chromium, accessible."""

from support.browser import assert_accessible, log_in

from app.domain.demo import demo_email


async def test_observer_searches_my_groups(page, live_server):
    await log_in(page, live_server, demo_email("observateur"))
    await page.goto("/groupes?q=CAF")
    await page.get_by_label("Rechercher un groupe").wait_for()
    titles = await page.locator("section.aplus-group h2").all_inner_texts()
    assert titles and all("CAF" in t for t in titles)
    await assert_accessible(page)
    await page.get_by_label("Rechercher un groupe").fill("93")
    await page.get_by_role("button", name="Rechercher").click()
    await page.wait_for_url("**/groupes?q=93")
    titles = await page.locator("section.aplus-group h2").all_inner_texts()
    assert "CAF de la Seine-Saint-Denis" in titles
    await assert_accessible(page)
