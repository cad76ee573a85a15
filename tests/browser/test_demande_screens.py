"""The demande page of issue 15 in real Chromium at 1024 × 768: the next step first, the
confirmation in view without JavaScript, "X consulte cette demande" with JavaScript, and the
printable mandat, with and without JavaScript; axe on every page."""

from __future__ import annotations

import asyncio
import sys
import uuid

from playwright.async_api import expect
from support.browser import LiveServer, assert_accessible, log_in_once

from app.domain.demo import demo_email

# Not the demo "aidant": other journeys log in as her, and login links are rate-limited.
AIDANT = demo_email("aidant2")
CAF = demo_email("instructeur.caf")
OFFICE = {"width": 1024, "height": 768}

CREATE = """
import asyncio, sys
from app.piccolo_conf import DB
from app.domain import applications
from app.tables import Group, User

async def main():
    await DB.start_connection_pool(min_size=1, max_size=1)
    try:
        aidant = await User.objects().where(User.email == {aidant!r}).first()
        fs = await Group.objects().where(Group.name == "France Services Paris 18e").first()
        caf = await Group.objects().where(Group.name == "CAF de Paris").first()
        app = await applications.create_application(
            creator=aidant, creator_group=fs.id, area="75", subject={subject!r},
            usager_first_name="Inès", usager_last_name={last_name!r}, usager_birth_date=None,
            description="Situation de test.", groups=[caf.id],
            usager_fields=[{{"code": "nir", "value": "185037511800164"}}],
        )
        print(app.id)
    finally:
        await DB.close_connection_pool()

asyncio.run(main())
"""


async def new_demande(server: LiveServer) -> tuple[str, str]:
    """A demande from the demo aidant to the CAF de Paris, made by the domain in the live
    database (the creation form has its own journey); its path and the usager's name."""
    tag = uuid.uuid4().hex[:8]
    last_name = f"Morel{tag}"
    script = CREATE.format(aidant=AIDANT, subject=f"Écran {tag}", last_name=last_name)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env=server.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return f"/demandes/{out.decode().strip()}", last_name


async def in_view_and_focused(page, selector: str) -> bool:
    return await page.evaluate(
        """(sel) => {
            const el = document.querySelector(sel);
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.top >= -1 && r.bottom <= window.innerHeight && document.activeElement === el;
        }""",
        selector,
    )


async def test_next_step_and_confirmation_without_javascript(open_page, live_server):
    path, _ = await new_demande(live_server)
    caf = await open_page(javascript=False)
    await caf.set_viewport_size(OFFICE)
    await log_in_once(caf, live_server, CAF)
    await caf.goto(path)
    # The next step is under the title, inside the first screen.
    step = caf.locator("#prochaine-etape")
    await expect(step).to_contain_text("prendre la demande en charge ou répondre")
    box = await step.bounding_box()
    assert box and box["y"] + box["height"] <= OFFICE["height"]
    # The invitation picker is folded; the readable NIR is shown.
    await expect(caf.locator("#inviter-plier")).not_to_have_attribute("open", "")
    assert not await caf.get_by_label("Groupes du département").is_visible()
    await expect(caf.locator(".aplus-usager")).to_contain_text("1 85 03 75 118 001 64")
    # "X consulte cette demande" needs the poll: nothing is said without JavaScript.
    await expect(caf.locator("#presence")).to_be_empty()
    assert not await caf.locator("#presence").is_visible()
    await assert_accessible(caf)

    await step.get_by_role("link", name="Répondre").click()
    await caf.get_by_label("Votre message", exact=True).fill("Nous regardons le dossier.")
    await caf.get_by_role("button", name="Envoyer le message").click()
    await caf.wait_for_url(f"**{path}#confirmation")
    await expect(caf.locator("#confirmation")).to_have_text("Votre message a été envoyé.")
    # Brought into view and focused, although the form was far below.
    assert await in_view_and_focused(caf, "#confirmation")
    await assert_accessible(caf)

    # Without JavaScript the folded invitation opens, and reopens after the picker's reload.
    await caf.locator("#inviter-plier > summary").click()
    await caf.get_by_label("Groupes du département").select_option("93")
    await caf.get_by_role("button", name="Afficher les groupes de ce département").click()
    await expect(caf.locator("#invite-groups")).to_contain_text("CAF de la Seine-Saint-Denis")
    await expect(caf.locator("#inviter-plier")).to_have_attribute("open", "")
    await assert_accessible(caf)


async def test_presence_and_confirmation_with_javascript(open_page, live_server):
    path, _ = await new_demande(live_server)
    aidant = await open_page()
    caf = await open_page()
    for page, email in ((aidant, AIDANT), (caf, CAF)):
        await page.set_viewport_size(OFFICE)
        await log_in_once(page, live_server, email)
        await page.goto(path)
    # The aidant of a demande just sent waits; the no-JS-only button is hidden with htmx.
    await expect(aidant.locator("#prochaine-etape")).to_contain_text("la réponse des organismes")
    await caf.locator("#inviter-plier > summary").click()
    invite_button = caf.get_by_role("button", name="Afficher les groupes de ce département")
    await expect(invite_button).to_be_hidden()
    await caf.locator("#inviter-plier > summary").click()

    # Each sees the other within 10 s (the poll runs every few seconds).
    await expect(aidant.locator("#presence")).to_have_text(
        "Chloé Bernard consulte cette demande", timeout=10_000
    )
    await expect(caf.locator("#presence")).to_contain_text("Bruno Petit", timeout=10_000)
    # Writing a reply shows too; the text itself never leaves the page.
    sent: list[str] = []
    caf.on("request", lambda r: sent.append(r.post_data or "") if "/presence" in r.url else None)
    await caf.get_by_label("Votre message", exact=True).fill("Brouillon confidentiel")
    await expect(aidant.locator("#presence")).to_have_text(
        "Chloé Bernard consulte cette demande (écrit une réponse)", timeout=10_000
    )
    assert sent and not any("Brouillon" in body for body in sent)
    await assert_accessible(aidant)

    # With htmx the confirmation lands in the live region and takes the focus.
    await caf.get_by_role("button", name="Envoyer le message").click()
    await expect(caf.locator("#messages #confirmation")).to_have_text("Votre message a été envoyé.")
    await expect(caf.locator("#confirmation")).to_be_focused()
    await expect(caf.locator("#messages")).to_have_attribute("aria-live", "polite")
    await assert_accessible(caf)


async def test_printable_mandat_with_and_without_javascript(open_page, live_server):
    path, last_name = await new_demande(live_server)
    # From the demande page, with JavaScript.
    aidant = await open_page()
    await aidant.set_viewport_size(OFFICE)
    await log_in_once(aidant, live_server, AIDANT)
    await aidant.goto(path)
    await aidant.get_by_role("link", name="Mandat à faire signer (imprimable)").click()
    mandat = aidant.locator(".aplus-mandat")
    await expect(mandat).to_contain_text(last_name)
    await expect(mandat).to_contain_text("France Services Paris 18e")
    await expect(mandat).to_contain_text("CAF de Paris")
    await expect(aidant.get_by_role("button", name="Imprimer le mandat")).to_be_visible()
    await assert_accessible(aidant)
    # Its print stylesheet keeps the mandat only.
    await aidant.emulate_media(media="print")
    assert not await aidant.locator("header.fr-header").is_visible()
    assert not await aidant.get_by_role("button", name="Imprimer le mandat").is_visible()
    assert await mandat.is_visible()

    # From the creation form, without JavaScript: a new tab, the form keeps what was typed.
    creator = await open_page(javascript=False)
    await creator.set_viewport_size(OFFICE)
    await log_in_once(creator, live_server, AIDANT)
    await creator.goto("/demandes/nouvelle")
    await creator.locator("#group-picker label", has_text="CAF de Paris").click()
    await creator.locator("#usager_first_name").fill("Noé")
    await creator.locator("#usager_last_name").fill(last_name)
    async with creator.context.expect_page() as opened:
        await creator.get_by_role("button", name="Préparer le mandat à faire signer").click()
    printed = await opened.value
    await printed.wait_for_load_state()
    await expect(printed.locator(".aplus-mandat")).to_contain_text(f"Noé {last_name}".split()[1])
    await expect(printed.locator(".aplus-mandat")).to_contain_text("CAF de Paris")
    await assert_accessible(printed)
    assert await creator.locator("#usager_last_name").input_value() == last_name
