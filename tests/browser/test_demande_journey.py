"""The demande journey in real Chromium, with JavaScript on (htmx swaps) and off (form posts and
303s): an aidant writes to the CAF; the CAF instructeur, coming from the e-mail, takes it,
invites the CPAM with a private message and marks it processed; the aidant sees the public
answers only and archives it. Every page visited passes the accessibility audit."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

from playwright.async_api import expect
from support.browser import LiveServer, assert_accessible

from app.domain.demo import demo_email

AIDANT = demo_email("aidant")
CAF = demo_email("instructeur.caf")
CPAM = demo_email("instructeur.cpam")
NIR = "185037511800164"


async def wait_for_link(
    server: LiveServer, to: str, fragment: str, *, count: int = 1, within: float = 15
) -> tuple[str, list[dict]]:
    """The path of the newest link containing `fragment` mailed to `to`, once `count` such
    mails arrived; and those mails (other tests share the catcher, hence the filter)."""
    deadline = time.monotonic() + within
    while True:
        found = [
            m
            for m in server.mails()
            if to in m["to"] and any(fragment in link for link in m["links"])
        ]
        if len(found) >= count:
            link = next(link for link in found[0]["links"] if fragment in link)
            return link.removeprefix(server.url), found
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} mail(s) to {to} with {fragment} expected; {found}")
        await asyncio.sleep(0.2)


async def log_in(page, server: LiveServer, email: str) -> None:
    """Log in from the login page (the aidant starts there, not from a mail)."""
    logins_before = len(
        [m for m in server.mails() if email in m["to"] and "/connexion/lien/" in str(m["links"])]
    )
    await page.goto("/connexion")
    await page.get_by_label("Adresse e-mail professionnelle").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await page.get_by_text("Si cette adresse a un compte").wait_for()
    link, _ = await wait_for_link(server, email, "/connexion/lien/", count=logins_before + 1)
    await page.goto(link)
    await page.get_by_role("button", name="Me connecter").click()
    await page.wait_for_url(server.url + "/demandes")  # aidants and instructeurs: the inbox


async def log_in_from_link(page, server: LiveServer, email: str, path: str, javascript: bool):
    """Open a link from a mail while logged out: log in, then land on that very page."""
    logins_before = len(
        [m for m in server.mails() if email in m["to"] and "/connexion/lien/" in str(m["links"])]
    )
    await page.goto(path)
    assert "/connexion?suivant=" in page.url
    await page.get_by_label("Adresse e-mail professionnelle").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    if not javascript:
        await page.wait_for_url("**/connexion/envoye")
    await page.get_by_text("Si cette adresse a un compte").wait_for()
    link, _ = await wait_for_link(server, email, "/connexion/lien/", count=logins_before + 1)
    await page.goto(link)
    await page.get_by_role("button", name="Me connecter").click()
    await page.wait_for_url(server.url + path)


def track_loads(page) -> list[str]:
    """The full page loads from now on: an htmx swap adds none."""
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    return loads


async def assert_swapped_in_place(page, loads: list[str], url: str) -> None:
    assert page.url == url
    assert loads == []
    assert await page.evaluate("() => window.__aplusMarker") == 1


async def run_journey(open_page, live_server: LiveServer, *, javascript: bool) -> None:
    tag = uuid.uuid4().hex[:8]
    subject = f"Aide au logement interrompue {tag}"
    first_name, last_name = "Yasmine", f"Boulanger{tag}"
    description = f"Les versements se sont arrêtés sans courrier explicatif ({tag})."
    private = f"Pouvez-vous vérifier les droits santé ? Réservé aux instructeurs {tag}."
    processed = f"Le droit est rétabli, le rappel sera versé le 5 {tag}."
    confidential = [subject, first_name, last_name, description, private, processed, NIR]

    # --- the aidant writes to the CAF ---------------------------------------------------------
    aidant = await open_page(javascript=javascript)
    await log_in(aidant, live_server, AIDANT)
    await aidant.goto("/demandes/nouvelle")
    await assert_accessible(aidant)
    picker = aidant.locator("#group-picker")
    if javascript:
        loads = track_loads(aidant)
        await aidant.evaluate("() => { window.__aplusMarker = 1; }")
        await aidant.get_by_label("Territoire de l'usager").select_option("93")
        await expect(picker).to_contain_text("CAF de la Seine-Saint-Denis")
        await expect(picker).not_to_contain_text("CAF de Paris")
        await aidant.get_by_label("Territoire de l'usager").select_option("75")
        await aidant.get_by_label("Filtrer les organismes par thème").select_option("social")
        await expect(picker).not_to_contain_text("CPAM de Paris")
        await expect(picker).to_contain_text("CAF de Paris")
        await assert_swapped_in_place(aidant, loads, live_server.url + "/demandes/nouvelle")
        await assert_accessible(aidant)
    else:
        await aidant.get_by_label("Filtrer les organismes par thème").select_option("social")
        await aidant.get_by_role("button", name="Mettre à jour la liste des organismes").click()
        await expect(picker).not_to_contain_text("CPAM de Paris")
        await expect(picker).to_contain_text("CAF de Paris")
    await picker.locator("label", has_text="CAF de Paris").click()
    await aidant.locator("#subject").fill(subject)
    await aidant.locator("#usager_first_name").fill(first_name)
    await aidant.locator("#usager_last_name").fill(last_name)
    await aidant.locator("#usager_birth_date").fill("1985-03-02")
    await aidant.get_by_label("Identifiant CAF").fill("7654321")
    await aidant.get_by_label("Numéro de sécurité sociale").fill(NIR)
    await aidant.locator("label", has_text="Mandat papier signé par l'usager").click()
    await aidant.get_by_label("Description de la situation").fill(description)
    await aidant.locator("label[for=attestation]").click()  # DSFR draws the box on the label
    await aidant.get_by_role("button", name="Envoyer la demande").click()

    await aidant.wait_for_url(re.compile(r"/demandes/[0-9a-f-]{36}$"))
    path = aidant.url.removeprefix(live_server.url)
    demande_id = path.rsplit("/", 1)[1]
    await expect(aidant.get_by_text("Votre demande a été envoyée.")).to_be_visible()
    await expect(aidant.get_by_role("heading", level=1)).to_have_text(subject)
    await expect(aidant.locator("#statut")).to_have_text("Envoyée")
    await assert_accessible(aidant)

    # --- the CAF instructeur comes from the e-mail ------------------------------------------
    link, _ = await wait_for_link(live_server, CAF, demande_id)
    assert link == path
    caf = await open_page(javascript=javascript)
    await log_in_from_link(caf, live_server, CAF, link, javascript)
    await expect(caf.get_by_role("heading", level=1)).to_have_text(subject)
    await expect(caf.locator("#statut")).to_have_text("Nouvelle")
    await expect(caf.locator(".aplus-usager")).to_contain_text(last_name)
    await assert_accessible(caf)

    thread = caf.locator("#fil")
    if javascript:
        loads = track_loads(caf)
        await caf.evaluate("() => { window.__aplusMarker = 1; }")
    await caf.get_by_role("button", name="Je m'en occupe").click()
    await expect(caf.locator("#statut")).to_have_text("En cours")
    await expect(thread.locator(".aplus-entry")).to_have_count(1)
    await expect(thread).to_contain_text("Chloé Bernard")
    await expect(thread.locator(".fr-badge", has_text="Je m'en occupe")).to_be_visible()
    await expect(caf.get_by_text("Votre message a été envoyé.")).to_be_visible()
    if javascript:
        await assert_swapped_in_place(caf, loads, live_server.url + path)
        # The notice went to the page's live region, focused after the swap (app.js).
        await expect(caf.locator("#messages #confirmation")).to_be_focused()
    await assert_accessible(caf)

    # Inviting is not the instructeur's first step: folded until asked for.
    await caf.locator("#inviter-plier > summary").click()
    invite = caf.locator("#inviter")
    if javascript:
        # The group picker of the invite form follows the chosen département in place.
        await invite.get_by_label("Groupes du département").select_option("93")
        await expect(invite.locator("#invite-groups")).to_contain_text("CAF de la Seine-Saint")
        await invite.get_by_label("Groupes du département").select_option("75")
        await expect(invite.locator("#invite-groups")).to_contain_text("CPAM de Paris")
        await assert_swapped_in_place(caf, loads, live_server.url + path)
    await invite.locator("label", has_text="CPAM de Paris").click()
    await invite.get_by_label("Message d'invitation (facultatif)").fill(private)
    await invite.locator("label[for=invite-private]").click()
    await invite.get_by_role("button", name="Inviter").click()
    await expect(caf.get_by_text("Les invitations ont été envoyées.")).to_be_visible()
    invitation = thread.locator(".aplus-entry--private")
    await expect(invitation).to_contain_text(private)
    await expect(invitation).to_contain_text("A invité : CPAM de Paris")
    await expect(invitation.locator(".fr-badge", has_text="Invitation")).to_be_visible()
    private_badge = invitation.locator(".fr-badge", has_text="Réservé aux instructeurs")
    await expect(private_badge).to_be_visible()
    await expect(caf.locator("#statut")).to_have_text("En cours")
    await assert_accessible(caf)

    await caf.get_by_label("Votre message", exact=True).fill(processed)
    await caf.locator("label[for=answer-processed]").click()
    await caf.get_by_role("button", name="Envoyer le message").click()
    await expect(caf.locator("#statut")).to_have_text("Traitée")
    await expect(thread.locator(".aplus-entry")).to_have_count(3)
    await expect(thread.locator(".aplus-entry").last).to_contain_text(processed)
    await expect(thread.locator(".fr-badge", has_text="Demande traitée")).to_be_visible()
    if javascript:
        await assert_swapped_in_place(caf, loads, live_server.url + path)
    await assert_accessible(caf)

    # --- the e-mails: the invited CPAM hears of it; none carries the content ----------------
    # The invitation, then the public "traitée" answer the CPAM may now read.
    link, to_cpam = await wait_for_link(live_server, CPAM, demande_id, count=2)
    assert link == path
    assert [m["subject"] for m in to_cpam] == [
        "[A+] Nouveau message sur une demande",
        "[A+] Vous êtes invité sur une demande",
    ]
    # Two public answers for the aidant ("Je m'en occupe", then "traitée"); not the invitation.
    link, to_aidant = await wait_for_link(live_server, AIDANT, demande_id, count=2)
    # A third mail (wrongly sent for the private invitation) would be in the outbox by now.
    await live_server.wait_for_outbox_sent()
    to_aidant = [m for m in live_server.mails() if AIDANT in m["to"] and demande_id in str(m)]
    assert [m["subject"] for m in to_aidant] == ["[A+] Nouveau message sur une demande"] * 2
    about = [m for m in live_server.mails() if demande_id in str(m["links"])]
    for mail in about:
        for secret in confidential:
            assert secret not in mail["subject"] + mail["text"], (mail["to"], secret)

    # --- the aidant reads the answers (not the private message) and archives ----------------
    await aidant.goto(link)
    await expect(aidant.locator("#statut")).to_have_text("À archiver")
    aidant_thread = aidant.locator("#fil")
    await expect(aidant_thread.locator(".aplus-entry")).to_have_count(2)
    await expect(aidant_thread).to_contain_text(processed)
    await expect(aidant_thread.locator(".fr-badge", has_text="Je m'en occupe")).to_be_visible()
    await expect(aidant_thread).not_to_contain_text(private)
    await expect(aidant_thread).not_to_contain_text("CPAM de Paris")
    assert private not in await aidant.content()
    await assert_accessible(aidant)

    if javascript:
        loads = track_loads(aidant)
        await aidant.evaluate("() => { window.__aplusMarker = 1; }")
    archive = aidant.locator("#archiver")
    await archive.locator("label[for=usefulness-oui]").click()
    await archive.get_by_role("button", name="Archiver").click()
    await expect(aidant.locator("#statut")).to_have_text("Archivée")
    await expect(aidant.get_by_text("La demande est archivée.")).to_be_visible()
    await expect(aidant.get_by_role("heading", name="Demande archivée")).to_be_visible()
    await expect(aidant.get_by_role("button", name="Rouvrir la demande")).to_be_visible()
    if javascript:
        await assert_swapped_in_place(aidant, loads, live_server.url + path)
    await assert_accessible(aidant)


async def test_demande_journey_with_javascript(open_page, live_server):
    await run_journey(open_page, live_server, javascript=True)


async def test_demande_journey_without_javascript(open_page, live_server):
    await run_journey(open_page, live_server, javascript=False)
