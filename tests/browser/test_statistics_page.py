"""Statistics in real Chromium: the observer lands on them after login, filters work with
JavaScript (htmx swaps the figures, the URL follows) and without (a plain GET form), every
chart has its text alternative and its table, and each page passes the accessibility audit.
Set APLUS_SCREENSHOTS=<dir> to keep screenshots at 1024 and 1280 px."""

import os
from pathlib import Path

from support.browser import assert_accessible, log_in, run_step

from app.domain.demo import demo_email

ROOT = Path(__file__).resolve().parents[2]


async def _screenshots(page, name: str) -> None:
    folder = os.environ.get("APLUS_SCREENSHOTS")
    if not folder:
        return
    for width in (1024, 1280):
        await page.set_viewport_size({"width": width, "height": 768})
        await page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)


async def _charts_are_described(page) -> None:
    charts = page.locator("svg.aplus-chart")
    assert await charts.count() == 3
    for i in range(3):
        chart = charts.nth(i)
        assert await chart.get_attribute("role") == "img"
        assert (await chart.locator("title").text_content()).strip()
        assert (await chart.locator("desc").text_content()).strip()
        # The same figures as a table in the chart's section.
        section = page.locator("section.aplus-stats-section").nth(i)
        assert await section.locator("table").count() == 1
        assert await section.locator("svg.aplus-chart").count() == 1


async def _total(page) -> int:
    text = await page.locator("#statistiques-resume").inner_text()
    return int(text.split(":")[1].split()[0])


async def test_observer_filters_with_javascript(page, live_server):
    run_step(["statistics", "refresh", "--full"], live_server.env, ROOT)
    await log_in(page, live_server, demo_email("observateur"))
    await page.wait_for_url("**/statistiques")
    await page.get_by_role("heading", name="Statistiques", exact=True).wait_for()
    await _charts_are_described(page)
    national = await _total(page)
    assert national > 0
    await assert_accessible(page)
    await _screenshots(page, "statistiques")

    await page.evaluate("() => { window.aplusNotReloaded = true; }")
    await page.get_by_label("Département", exact=True).select_option("93")
    await page.get_by_role("button", name="Appliquer les filtres").click()
    await page.wait_for_url("**/statistiques?*departement=93*")
    await page.locator("#statistiques-resume").wait_for()
    # htmx swapped the figures in place: the page was not reloaded.
    assert await page.evaluate("() => window.aplusNotReloaded === true")
    assert await _total(page) < national
    await _charts_are_described(page)
    await assert_accessible(page)

    await page.goto("/statistiques/deploiement?organisation=caf")
    await page.get_by_role("heading", name="Déploiement des instructeurs").wait_for()
    await assert_accessible(page)
    await _screenshots(page, "deploiement")


async def test_filters_without_javascript_and_public_page(page_nojs, live_server):
    page = page_nojs
    run_step(["statistics", "refresh"], live_server.env, ROOT)
    await log_in(page, live_server, demo_email("territoire"))
    await page.goto("/statistiques")
    await _charts_are_described(page)
    scope_total = await _total(page)
    await page.get_by_label("Du mois").fill("2020-01")
    await page.get_by_label("Au mois (inclus)").fill("2019-01")
    await page.get_by_role("button", name="Appliquer les filtres").click()
    error = page.locator("#filtre-au-erreur")
    await error.wait_for()
    assert "mois de fin" in await error.inner_text()
    await assert_accessible(page)

    await page.goto("/statistiques")
    await page.get_by_label("Département", exact=True).select_option("75")
    await page.get_by_role("button", name="Appliquer les filtres").click()
    await page.wait_for_url("**/statistiques?*departement=75*")
    assert await _total(page) == scope_total  # the area manager's scope is CAF × 75 already
    await _charts_are_described(page)
    await assert_accessible(page)

    await page.context.clear_cookies()
    await page.goto("/statistiques/publiques")
    await page.get_by_role("heading", name="Statistiques publiques d'Administration+").wait_for()
    await _charts_are_described(page)
    await assert_accessible(page)
    await _screenshots(page, "publiques")
