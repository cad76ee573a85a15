"""A responsable manages the members of their group in real Chromium: edits a row inline,
creates three accounts in one go (one bad e-mail, fixed in place), grants the instructeur role
through the confirmation — with JavaScript on (htmx swaps one row or the block, focus moved
where the server marks it) and off (plain forms, 303s and full pages). Every page and state
visited passes the accessibility audit.

Each test has its own responsable and member in "CAF de Paris" (the demo group with three open
demandes, which is what the instructeur confirmation counts); rows are found by e-mail, since
other tests add people to the same group.
"""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect
from support.browser import LiveServer, assert_accessible, log_in, run_step
from support.testenv import ROOT

GROUP = "CAF de Paris"
# The demo's 3 open demandes addressed to the CAF (new, in progress, processed), or more: other
# browser tests add demandes to "CAF de Paris" in the shared live database.
OPEN_DEMANDES_WARNING = re.compile(r"pourra lire ([3-9]|\d\d+) demandes")


def _cli_user(server: LiveServer, email: str, first: str, last: str, *options: str) -> None:
    args = ["user", "create", "--email", email, "--first-name", first, "--last-name", last]
    run_step([*args, "--group", GROUP, *options], server.env, ROOT)


async def _log_in_as_new_responsable(page, server: LiveServer, tag: str) -> str:
    """A fresh responsable of the group, logged in, CGU accepted; returns the e-mail."""
    email = f"resp-{tag}@caf.fr"
    _cli_user(server, email, "Rémi", f"Resp{tag}", "--role", "instructeur", "--manager")
    await log_in(page, server, email)
    await page.wait_for_url("**/cgu**")
    await page.get_by_label("Qualité").fill("Responsable CAF")
    await page.get_by_label("Téléphone professionnel").fill("01 23 45 67 89")
    await page.locator("label[for=champ-accepte]").click()  # DSFR draws the box on the label
    await page.get_by_role("button", name="Accepter et continuer").click()
    await page.wait_for_url(server.url + "/demandes")  # an instructeur lands on the inbox
    return email


async def _ids(page, email: str) -> tuple[str, str]:
    """(group id, row id) of the member shown with this e-mail."""
    row = page.locator("tbody tr", has_text=email)
    row_id = await row.get_attribute("id")
    group_id = await page.locator("section.aplus-group", has=row).get_attribute("id")
    return group_id.removeprefix("groupe-"), row_id


def _new_accounts(tag: str) -> list[dict[str, str]]:
    return [
        {"first_name": "Anna", "last_name": f"Un{tag}", "qualite": "Gestionnaire",
         "email": f"un-{tag}@caf.fr", "phone": "01 40 00 00 01"},
        {"first_name": "Basile", "last_name": f"Deux{tag}", "qualite": "Gestionnaire",
         "email": f"deux-{tag}-chez-caf.fr", "phone": ""},
        {"first_name": "Carla", "last_name": f"Trois{tag}", "qualite": "Cadre",
         "email": f"trois-{tag}@caf.fr", "phone": ""},
    ]  # fmt: skip


async def _fill_new_accounts(page, group_id: str, rows: list[dict[str, str]]) -> None:
    for i, row in enumerate(rows):
        for name, value in row.items():
            await page.locator(f"#nc-{group_id}-l{i}-{name}").fill(value)


async def test_groups_journey_with_javascript(page, live_server):
    tag = uuid.uuid4().hex[:8]
    member = f"membre-{tag}@caf.fr"
    _cli_user(live_server, member, "Mona", f"Membre{tag}")
    me = await _log_in_as_new_responsable(page, live_server, tag)

    await page.goto("/groupes")
    assert await page.get_by_role("heading", level=1).inner_text() == "Mes groupes"
    await assert_accessible(page)
    group_id, row_id = await _ids(page, member)
    _, my_row_id = await _ids(page, me)
    prefix = f"m-{group_id}-{row_id.removeprefix(f'membre-{group_id}-')}-"

    async def mark_other_row() -> None:
        # A marker only this DOM node holds: a swap of the member's row must leave it alone.
        await page.evaluate(
            "id => { window.otherRow = document.getElementById(id);"
            " window.otherRow.setAttribute('data-test-marker', 'untouched'); }",
            my_row_id,
        )

    async def other_rows_untouched() -> None:
        assert await page.evaluate(
            "id => document.getElementById(id) === window.otherRow"
            " && window.otherRow.getAttribute('data-test-marker') === 'untouched'",
            my_row_id,
        ), "a swap replaced a row it should not have touched"

    await mark_other_row()

    # 1. Edit the member's row in place.
    await page.get_by_role("link", name=f"Modifier Mona Membre{tag}").click()
    await expect(page.locator(f"#{prefix}first_name")).to_be_focused()
    assert page.url.endswith("/groupes")  # no navigation: htmx swapped the row
    await other_rows_untouched()
    await assert_accessible(page)

    await page.locator(f"#{prefix}qualite").fill("Technicienne conseil")
    await page.get_by_role("button", name=f"Enregistrer Mona Membre{tag}").click()
    row = page.locator(f"#{row_id}")
    await expect(row).to_contain_text("Technicienne conseil")
    await expect(row.get_by_role("link", name=f"Modifier Mona Membre{tag}")).to_be_focused()
    # Confirmed as without JavaScript, in the live region (announced; focus stays on the row).
    await expect(page.locator("#messages")).to_have_text("Les modifications ont été enregistrées.")
    await other_rows_untouched()
    await assert_accessible(page)

    # 2. Three new accounts in one go; the second e-mail is wrong.
    await page.locator(f"#lignes-{group_id}").fill("3")
    await page.get_by_role("button", name="Ajouter ces lignes").click()
    await expect(page.locator(f"#nc-{group_id}-l0-first_name")).to_be_focused()
    await expect(
        page.locator(f"#creation-comptes-{group_id} fieldset.aplus-new-account")
    ).to_have_count(3)
    await other_rows_untouched()
    await assert_accessible(page)

    accounts = _new_accounts(tag)
    await _fill_new_accounts(page, group_id, accounts)
    await page.get_by_role("button", name="Créer les comptes").click()
    bad = page.locator(f"#nc-{group_id}-l1-email")
    await expect(bad).to_be_focused()
    await expect(bad).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(f"#nc-{group_id}-l1-email-erreur")).to_be_visible()
    await expect(page.get_by_text("Aucun compte n'a été créé")).to_be_visible()
    assert (
        await page.locator(f"#nc-{group_id}-l0-email").input_value() == accounts[0]["email"]
    )  # input kept
    members = page.locator(f"#membres-{group_id}")
    await expect(members).not_to_contain_text(accounts[0]["email"])  # nothing partial
    await other_rows_untouched()
    await assert_accessible(page)

    accounts[1]["email"] = f"deux-{tag}@caf.fr"
    await bad.fill(accounts[1]["email"])
    await page.get_by_role("button", name="Créer les comptes").click()
    notice = page.get_by_role("status").filter(has_text="3 comptes créés")
    await expect(notice).to_be_focused()
    for account in accounts:
        await expect(members).to_contain_text(account["email"])
    await assert_accessible(page)
    for account in accounts:
        mails = await live_server.wait_for_mail(account["email"])
        assert "Bienvenue sur Administration+" in mails[0]["subject"]

    # 3. Grant the instructeur role: first how many demandes they will read, then confirm.
    await page.get_by_role("link", name=f"Modifier Mona Membre{tag}").click()
    await expect(page.locator(f"#{prefix}first_name")).to_be_focused()
    await mark_other_row()  # creating the accounts refreshed the whole block
    await page.locator(f"label[for={prefix}is_instructor]").click()
    await page.get_by_role("button", name=f"Enregistrer Mona Membre{tag}").click()
    warning = page.get_by_role("alert").filter(has_text=OPEN_DEMANDES_WARNING)
    await expect(warning).to_be_visible()
    confirm = page.get_by_role("button", name="Confirmer")
    await expect(confirm).to_be_focused()
    await other_rows_untouched()
    await assert_accessible(page)

    await confirm.click()
    await expect(row.get_by_text("Instructeur", exact=True)).to_be_visible()
    await expect(row.get_by_role("link", name=f"Modifier Mona Membre{tag}")).to_be_focused()
    await other_rows_untouched()
    await assert_accessible(page)


async def test_groups_journey_without_javascript(page_nojs, live_server):
    page = page_nojs
    tag = uuid.uuid4().hex[:8]
    member = f"membre-{tag}@caf.fr"
    _cli_user(live_server, member, "Mona", f"Membre{tag}")
    await _log_in_as_new_responsable(page, live_server, tag)

    await page.goto("/groupes")
    await assert_accessible(page)
    group_id, row_id = await _ids(page, member)
    prefix = f"m-{group_id}-{row_id.removeprefix(f'membre-{group_id}-')}-"
    back_to_row = re.compile(rf"/groupes/{group_id}\?membre=[0-9a-f-]+#{row_id}$")

    # 1. Edit the member's row: the group page with that row as a form, then a 303 back.
    await page.get_by_role("link", name=f"Modifier Mona Membre{tag}").click()
    await page.wait_for_url(f"**/groupes/{group_id}/membres/*/edition")
    await expect(page.locator(f"#{prefix}qualite")).to_be_visible()
    await assert_accessible(page)
    await page.locator(f"#{prefix}qualite").fill("Technicienne conseil")
    await page.get_by_role("button", name=f"Enregistrer Mona Membre{tag}").click()
    await page.wait_for_url(back_to_row)  # back to the row, on the page of members holding it
    await expect(page.get_by_text("Les modifications ont été enregistrées.")).to_be_visible()
    await expect(page.locator(f"#{row_id}")).to_contain_text("Technicienne conseil")
    await assert_accessible(page)

    # 2. Three new accounts: a page of its own, errors on the line, nothing saved, then saved.
    await page.locator(f"#lignes-{group_id}").fill("3")
    await page.get_by_role("button", name="Ajouter ces lignes").click()
    await page.wait_for_url(f"**/groupes/{group_id}/comptes/nouveaux?lignes=3")
    await expect(
        page.locator(f"#creation-comptes-{group_id} fieldset.aplus-new-account")
    ).to_have_count(3)
    await assert_accessible(page)

    accounts = _new_accounts(tag)
    await _fill_new_accounts(page, group_id, accounts)
    await page.get_by_role("button", name="Créer les comptes").click()
    await page.wait_for_url(f"**/groupes/{group_id}/comptes")
    await expect(page.locator(f"#nc-{group_id}-l1-email")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(f"#nc-{group_id}-l1-email-erreur")).to_be_visible()
    await expect(page.get_by_text("Aucun compte n'a été créé")).to_be_visible()
    assert await page.locator(f"#nc-{group_id}-l2-email").input_value() == accounts[2]["email"]
    await assert_accessible(page)

    accounts[1]["email"] = f"deux-{tag}@caf.fr"
    await page.locator(f"#nc-{group_id}-l1-email").fill(accounts[1]["email"])
    await page.get_by_role("button", name="Créer les comptes").click()
    await page.wait_for_url(f"**/groupes/{group_id}")
    await expect(page.get_by_text("3 comptes créés")).to_be_visible()
    members = page.locator(f"#membres-{group_id}")
    for account in accounts:
        await expect(members).to_contain_text(account["email"])
    await assert_accessible(page)
    for account in accounts:
        mails = await live_server.wait_for_mail(account["email"])
        assert "Bienvenue sur Administration+" in mails[0]["subject"]

    # 3. Grant the instructeur role through the confirmation page.
    await page.get_by_role("link", name=f"Modifier Mona Membre{tag}").click()
    await page.wait_for_url(f"**/groupes/{group_id}/membres/*/edition")
    await page.locator(f"label[for={prefix}is_instructor]").click()
    await page.get_by_role("button", name=f"Enregistrer Mona Membre{tag}").click()
    await page.wait_for_load_state()
    warning = page.get_by_role("alert").filter(has_text=OPEN_DEMANDES_WARNING)
    await expect(warning).to_be_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Confirmer").click()
    await page.wait_for_url(back_to_row)
    await expect(page.get_by_text("Les modifications ont été enregistrées.")).to_be_visible()
    row = page.locator(f"#{row_id}")
    await expect(row.get_by_text("Instructeur", exact=True)).to_be_visible()
    await assert_accessible(page)
