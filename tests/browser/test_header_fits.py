"""The DSFR header at office screen widths: the "République Française" block is never clipped,
whatever the number of links a role gets (the admin has the most), with JavaScript on or off."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from support.browser import assert_accessible, log_in_once

from app.domain.demo import demo_email

SIZES = [(1024, 768), (1280, 800)]

# Measured from element boxes: each line of the logo's text must lie inside the logo block,
# inside every ancestor that clips, left of the service title and inside the viewport.
MEASURE = """() => {
  const logo = document.querySelector('.fr-header .fr-logo');
  const range = document.createRange();
  range.selectNodeContents(logo);
  const text = Array.from(range.getClientRects()).filter(r => r.width > 0);
  const box = logo.getBoundingClientRect();
  const clips = [];
  for (let el = logo; el && el !== document.body; el = el.parentElement) {
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' || style.overflow !== 'visible') {
      clips.push(el.getBoundingClientRect().toJSON());
    }
  }
  const service = document.querySelector('.fr-header__service').getBoundingClientRect();
  return {
    text: text.map(r => r.toJSON()), box: box.toJSON(), clips,
    serviceLeft: service.left, viewport: window.innerWidth,
    overflowing: logo.scrollWidth > logo.clientWidth + 1,
    pageScroll: document.documentElement.scrollWidth > window.innerWidth,
    shown: logo.innerText.replace(/\\s+/g, ' ').trim(),
  };
}"""


def assert_unclipped(m: dict, where: str) -> None:
    assert m["shown"].lower() == "république française", where
    assert m["text"], where
    assert not m["overflowing"], f"{where}: the logo's text overflows its box {m}"
    assert not m["pageScroll"], f"{where}: the page scrolls sideways"
    for r in m["text"]:
        assert m["box"]["left"] - 1 <= r["left"] and r["right"] <= m["box"]["right"] + 1, where
        assert r["right"] <= m["serviceLeft"] + 1, f"{where}: logo text runs under the title {m}"
        assert r["right"] <= m["viewport"], where
        for c in m["clips"]:
            assert c["left"] - 1 <= r["left"] and r["right"] <= c["right"] + 1, (where, c, r)


# The admin has the most header links; the aidant is checked without JavaScript, where the
# DSFR's scripts do not run (one login each, and not the demo "aidant" other journeys use:
# login links are rate-limited per address).
@pytest.mark.parametrize(("who", "javascript"), [("admin", True), ("aidant2", False)])
async def test_header_shows_republique_francaise_unclipped(who, javascript, open_page, live_server):
    page = await open_page(javascript=javascript)
    await log_in_once(page, live_server, demo_email(who))
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto("/demandes")
        where = f"{who} at {width} px, JavaScript {'on' if javascript else 'off'}"
        assert_unclipped(await page.evaluate(MEASURE), where)
        # The main navigation is a bar under the header at these widths, every link shown.
        nav = page.get_by_role("navigation", name="Menu principal")
        for name in ["Mes demandes", "Mes groupes"] + (["Administration"] * (who == "admin")):
            assert await nav.get_by_role("link", name=name).is_visible(), (where, name)
        current = nav.locator("[aria-current=page]")
        assert await current.inner_text() == "Mes demandes"
        assert await page.get_by_role("button", name="Se déconnecter").is_visible()
    await assert_accessible(page)
    if who == "aidant2":
        # Mon profil: the e-mail is text, not an input that looks editable.
        await page.goto("/profil")
        await expect(page.locator("#champ-email")).to_have_text(demo_email(who))
        assert await page.locator("input[type=email]").count() == 0
        await assert_accessible(page)


async def test_legal_pages_from_the_footer(page):
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.goto("/")
    for name, heading in (
        ("Accessibilité : non conforme", "Déclaration d'accessibilité"),
        ("Mentions légales", "Mentions légales"),
        ("Données personnelles", "Données personnelles"),
    ):
        await page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await assert_accessible(page)
