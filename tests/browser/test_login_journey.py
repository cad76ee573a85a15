"""The login journey in real Chromium: request a link, open it from the captured mail,
confirm, accept the CGU, land on the asked page — with JavaScript on (htmx swaps the form)
and off (plain form posts and 303s). Every page visited passes the accessibility audit."""

import uuid

from playwright.async_api import expect
from support.browser import assert_accessible, create_account, login_link


async def test_login_journey_with_javascript(page, live_server):
    email = f"js-{uuid.uuid4().hex[:8]}@caf.fr"
    create_account(live_server, email, "aidant", group="France Services Paris 18e")

    await page.goto("/profil")
    assert "/connexion?suivant=%2Fprofil" in page.url
    await assert_accessible(page)

    await page.get_by_label("Adresse e-mail professionnelle").fill(email.upper())
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    # htmx swapped the panel in place: same URL, no page load, focus on the message.
    await page.get_by_text("Si cette adresse a un compte").wait_for()
    assert "/connexion?suivant" in page.url
    # Focus moves once htmx has settled the swap: wait for it rather than read it at once.
    await expect(page.get_by_role("status")).to_be_focused()
    await assert_accessible(page)

    await page.goto(await login_link(live_server, email))
    assert await page.get_by_role("button", name="Me connecter").is_visible()
    await assert_accessible(page)
    await page.get_by_role("button", name="Me connecter").click()

    await page.wait_for_url("**/cgu?suivant=%2Fprofil")
    await assert_accessible(page)
    await page.get_by_label("Prénom").fill("Aline")
    await page.get_by_label("Nom", exact=True).fill("Rivière")
    await page.get_by_label("Qualité").fill("Conseillère France Services")
    await page.get_by_label("Téléphone professionnel").fill("06 12 34 56 78")
    await page.locator("label[for=champ-accepte]").click()  # DSFR draws the box on the label
    await page.get_by_role("button", name="Accepter et continuer").click()

    await page.wait_for_url("**/profil")
    assert await page.get_by_text("Merci, votre compte est prêt.").is_visible()
    # Read-only, shown as text rather than an input that looks editable.
    await expect(page.locator("#champ-email")).to_have_text(email)
    await assert_accessible(page)


async def test_login_journey_without_javascript(page_nojs, live_server):
    page = page_nojs
    email = f"nojs-{uuid.uuid4().hex[:8]}@caf.fr"
    create_account(live_server, email, "aidant", group="France Services Paris 18e")

    await page.goto("/")
    await page.get_by_role("link", name="Se connecter").first.click()
    await page.get_by_label("Adresse e-mail professionnelle").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    # Without htmx the form posts and the server answers 303 to a full page.
    await page.wait_for_url("**/connexion/envoye")
    assert await page.get_by_role("heading", name="Vérifiez vos e-mails").is_visible()
    await assert_accessible(page)

    path = await login_link(live_server, email)
    await page.goto(path)
    await page.get_by_role("button", name="Me connecter").click()
    # No page asked for: after the CGU, an aidant lands on their inbox.
    await page.wait_for_url("**/cgu?suivant=%2Fdemandes")
    await assert_accessible(page)

    # A mistake first: errors in French, next to their fields, input kept.
    await page.get_by_label("Prénom").fill("Marc")
    await page.get_by_role("button", name="Accepter et continuer").click()
    assert await page.get_by_text("Vous devez accepter les conditions").first.is_visible()
    assert await page.get_by_label("Prénom").input_value() == "Marc"
    await assert_accessible(page)

    await page.get_by_label("Nom", exact=True).fill("Lefort")
    await page.get_by_label("Qualité").fill("Travailleur social")
    await page.get_by_label("Téléphone professionnel").fill("0123456789")
    await page.locator("label[for=champ-accepte]").click()  # DSFR draws the box on the label
    await page.get_by_role("button", name="Accepter et continuer").click()
    await page.wait_for_url(live_server.url + "/demandes")
    assert await page.get_by_role("button", name="Se déconnecter").is_visible()
    await assert_accessible(page)

    # The link is spent: reusing it offers a new one in one click.
    await page.goto(path)
    assert await page.get_by_role("heading", name="déjà été utilisé").is_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Se déconnecter").click()
    await page.wait_for_url(live_server.url + "/")
    assert await page.get_by_role("link", name="Se connecter").first.is_visible()
