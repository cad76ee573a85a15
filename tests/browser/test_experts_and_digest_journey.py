"""Inviting the experts and choosing the daily digest in real Chromium, with JavaScript on (htmx
swap) and off (form posts and 303s); every state passes the accessibility audit.

Set APLUS_SCREENSHOTS=<folder> to keep screenshots of the changed pages at 1024 and 1280 px.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from playwright.async_api import expect
from support.browser import assert_accessible
from test_demande_journey import log_in, track_loads, wait_for_link

from app.domain.demo import demo_email

# Not the demo aidant: the other journeys log in as it, within its login rate limit.
AIDANT = demo_email("aidant2")
EXPERT = demo_email("expert")
SHOTS = os.environ.get("APLUS_SCREENSHOTS")


async def screenshots(page, name: str) -> None:
    if not SHOTS:
        return
    for width in (1024, 1280):
        await page.set_viewport_size({"width": width, "height": 768})
        # caret="initial": hiding the caret would inject a style, which the CSP refuses.
        await page.screenshot(
            path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True, caret="initial"
        )


async def _new_demande(page, tag: str) -> str:
    await page.goto("/demandes/nouvelle")
    picker = page.locator("#group-picker")
    await picker.locator("label", has_text="CAF de Paris").click()
    await page.locator("#subject").fill(f"Allocation bloquée {tag}")
    await page.locator("#usager_first_name").fill("Inès")
    await page.locator("#usager_last_name").fill(f"Martin{tag}")
    await page.locator("#usager_birth_date").fill("1979-11-20")
    await page.get_by_label("Identifiant CAF").fill("7654321")
    await page.get_by_label("Numéro de sécurité sociale").fill("185037511800164")
    await page.locator("label", has_text="Mandat papier signé par l'usager").click()
    await page.get_by_label("Description de la situation").fill(f"Situation {tag}.")
    await page.locator("label[for=attestation]").click()
    await page.get_by_role("button", name="Envoyer la demande").click()
    await expect(page.locator(".fr-error-text")).to_have_count(0)
    await page.wait_for_url(re.compile(r"/demandes/[0-9a-f-]{36}$"))
    return page.url.split("/demandes/")[1]


async def run_journey(open_page, live_server, javascript: bool) -> None:
    tag = uuid.uuid4().hex[:6]
    suffix = "js" if javascript else "nojs"
    aidant = await open_page(javascript=javascript)
    await log_in(aidant, live_server, AIDANT)
    demande_id = await _new_demande(aidant, tag)
    path = f"/demandes/{demande_id}"

    # --- the experts, from the invitation picker (folded under the thread) ------------------
    await aidant.locator("summary", has_text="Inviter un collègue ou un organisme").click()
    experts = aidant.get_by_label("L'équipe Administration+ (experts)")
    await expect(experts).to_be_visible()
    await assert_accessible(aidant)
    # The open invite form fits an office screen: its département select once overflowed
    # (content-box inside <details>) and the page scrolled sideways.
    await aidant.set_viewport_size({"width": 1024, "height": 768})
    scroll = await aidant.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert scroll[0] <= scroll[1], f"the page scrolls sideways: {scroll}"
    await aidant.locator("#inviter").scroll_into_view_if_needed()
    await screenshots(aidant, f"invite-experts-{suffix}")
    loads = track_loads(aidant) if javascript else []
    await aidant.locator("label[for=invite-experts]").click()
    await aidant.get_by_role("button", name="Inviter", exact=True).click()
    await expect(aidant.locator("#fil")).to_contain_text(
        "A invité : l'équipe Administration+ (experts)"
    )
    await expect(aidant.get_by_text("Les invitations ont été envoyées.")).to_be_visible()
    await expect(aidant.locator("#invite-experts")).to_have_count(0)
    if javascript:
        assert loads == [], "the invitation should swap the demande in place"
    else:
        # The redirect anchors the confirmation, which takes the focus (issue 15, item 6).
        assert aidant.url.endswith(path + "#confirmation")
    await assert_accessible(aidant)
    await screenshots(aidant, f"experts-invited-{suffix}")

    # The experts are told, with the link only.
    link, mails = await wait_for_link(live_server, EXPERT, path)
    assert link == path
    assert all(f"Martin{tag}" not in str(m) for m in mails)

    # --- the daily digest, on the profile ------------------------------------------------------
    await aidant.goto("/profil")
    await assert_accessible(aidant)
    await screenshots(aidant, f"profile-{suffix}")
    daily = aidant.get_by_label("Un récapitulatif quotidien")
    each = aidant.get_by_label("À chaque événement")
    await expect(each).to_be_checked()
    await aidant.locator("label", has_text="Un récapitulatif quotidien").click()
    await aidant.get_by_role("button", name="Enregistrer").click()
    await expect(aidant.get_by_text("Votre profil est enregistré.")).to_be_visible()
    await expect(daily).to_be_checked()
    await assert_accessible(aidant)
    # The demo data is shared by the journeys: back to each event.
    await aidant.locator("label", has_text="À chaque événement").click()
    await aidant.get_by_role("button", name="Enregistrer").click()
    await expect(aidant.get_by_text("Votre profil est enregistré.")).to_be_visible()
    await expect(each).to_be_checked()


async def test_experts_and_digest_with_javascript(open_page, live_server):
    await run_journey(open_page, live_server, javascript=True)


async def test_experts_and_digest_without_javascript(open_page, live_server):
    await run_journey(open_page, live_server, javascript=False)
