"""Réponses types in real Chromium at 1024 × 768, with and without JavaScript: a member adds
one on the group page, inserts it into a reply (keeping the draft already typed) and sends it;
every button of the section stays on screen; axe on each page.

Set APLUS_SCREENSHOTS=<folder> to keep the group page and the reply form at 1024 and 1280 px.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from playwright.async_api import expect
from support.browser import assert_accessible, log_in_once
from test_demande_screens import new_demande

from app.domain.demo import demo_email

CAF = demo_email("instructeur.caf")
OFFICE = {"width": 1024, "height": 768}
SHOTS = os.environ.get("APLUS_SCREENSHOTS")


async def screenshots(page, name: str, locator=None) -> None:
    if not SHOTS:
        return
    for width in (1024, 1280):
        await page.set_viewport_size({"width": width, "height": 768})
        if locator is None:
            await page.screenshot(
                path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True, caret="initial"
            )
        else:
            # One office screen around the part shown (the whole demande page is very long).
            await locator.scroll_into_view_if_needed()
            await page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), caret="initial")
    await page.set_viewport_size(OFFICE)


async def assert_fits(page, section) -> None:
    """No sideways scroll of the page, each button of `section` inside the viewport."""
    scroll = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert scroll[0] <= scroll[1], f"the page scrolls sideways: {scroll}"
    buttons = section.locator(".fr-btn:visible")
    assert await buttons.count() > 0
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    for i in range(await buttons.count()):
        button = buttons.nth(i)
        await button.scroll_into_view_if_needed()
        box = await button.bounding_box()
        name = (await button.inner_text()).strip()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (name, box)


async def open_caf_group(page) -> None:
    await page.goto("/groupes")
    await page.get_by_role("link", name="CAF de Paris", exact=True).click()
    await expect(page.locator("h1")).to_have_text("CAF de Paris")


async def add_reply(page, title: str, text: str) -> None:
    section = page.locator("#reponses-types")
    await expect(section).to_contain_text("Jamais de données personnelles")
    await section.locator("#ajouter-title").fill(title)
    await section.locator("#ajouter-text").fill(text)
    await section.get_by_role("button", name="Ajouter la réponse type").click()


async def insert_and_send(page, path: str, title: str, text: str) -> None:
    await page.goto(path)
    message = page.get_by_label("Votre message", exact=True)
    await message.fill("Bonjour,")
    await page.get_by_label("Réponse type").select_option(label=title)
    await page.get_by_role("button", name="Insérer").click()
    await expect(message).to_have_value(f"Bonjour,\n\n{text}")
    await expect(message).to_be_focused()
    await assert_fits(page, page.locator("#answer-body-field"))
    await assert_accessible(page)
    await screenshots(page, "reponse-type-insertion", page.locator("#answer-body-field"))
    await page.get_by_role("button", name="Envoyer le message").click()
    await expect(page.locator("#confirmation")).to_have_text("Votre message a été envoyé.")
    await expect(page.locator("#fil")).to_contain_text(text)


async def test_canned_reply_without_javascript(open_page, live_server):
    tag = uuid.uuid4().hex[:8]
    title, text = f"Pièces {tag}", f"Merci de joindre l'avis d'imposition ({tag})."
    page = await open_page(javascript=False)
    await page.set_viewport_size(OFFICE)
    await log_in_once(page, live_server, CAF)
    await open_caf_group(page)
    await add_reply(page, "", "Sans titre")
    # The error in French, what was typed kept.
    await expect(page.locator("#reponses-types")).to_contain_text("Donnez un titre court")
    await expect(page.locator("#ajouter-text")).to_have_value("Sans titre")
    await assert_accessible(page)
    await add_reply(page, title, text)
    await page.wait_for_url("**/reponses-types#confirmation")
    await expect(page.locator("#confirmation")).to_contain_text(f"« {title} » a été ajoutée")
    await expect(page.locator("#reponses-types")).to_contain_text(text)
    await assert_accessible(page)

    path, _ = await new_demande(live_server)
    await page.goto(path)
    await page.get_by_label("Votre message", exact=True).fill("Bonjour,")
    await page.get_by_label("Réponse type").select_option(label=title)
    await page.get_by_role("button", name="Insérer").click()
    # A new page (the whole form again), the draft kept and the text added.
    await page.wait_for_url(f"**{path}/reponses/modele#answer-body-field")
    await expect(page.get_by_label("Votre message", exact=True)).to_have_value(
        f"Bonjour,\n\n{text}"
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="Envoyer le message").click()
    await page.wait_for_url(f"**{path}#confirmation")
    await expect(page.locator("#fil")).to_contain_text(text)


async def test_canned_reply_with_javascript(open_page, live_server):
    tag = uuid.uuid4().hex[:8]
    title, text = f"Délais {tag}", f"Le délai de traitement est de trois semaines ({tag})."
    page = await open_page()
    await page.set_viewport_size(OFFICE)
    await log_in_once(page, live_server, CAF)
    await open_caf_group(page)
    url = page.url
    await add_reply(page, f"Brouillon {tag}", "À revoir")
    section = page.locator("#reponses-types")
    await expect(section).to_contain_text(f"« Brouillon {tag} » a été ajoutée")
    assert page.url == url  # swapped in place
    # Edit it in place, then save.
    await section.get_by_role("link", name=f"Modifier « Brouillon {tag} »").click()
    # The opened form takes the focus to its title once htmx has settled (app.js); typing
    # before that would lose the next field's text to the title.
    await expect(section.locator("#modifier-title")).to_be_focused()
    await section.locator("#modifier-title").fill(title)
    await section.locator("#modifier-text").fill(text)
    await section.get_by_role("button", name="Enregistrer").click()
    await expect(section).to_contain_text(f"« {title} » a été enregistrée")
    await expect(section.locator(".aplus-canned__item", has_text=title)).to_contain_text(text)
    assert page.url == url
    await assert_fits(page, section)
    await assert_accessible(page)
    await screenshots(page, "groupe-reponses-types")

    path, _ = await new_demande(live_server)
    await insert_and_send(page, path, title, text)
