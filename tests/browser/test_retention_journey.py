"""Retention in real Chromium: an aidant archives a demande; 91 days later (its dates moved back
in the live database) the nightly wipe runs through `aplus jobs run`, the same code as the
cron; the aidant finds it in the archive tab as metadata, opens it, cannot reopen it, and
no text of it is left on either page. Both pages pass the accessibility audit."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import psycopg
from playwright.async_api import expect
from support.browser import assert_accessible, create_account, log_in, run_step
from support.testenv import LIVE_DATABASE_URL, ROOT

NIR = "185037511800164"
CAF_ID = "7654329"
SHOTS = Path(os.environ.get("APLUS_SCREENSHOTS", "/tmp/aplus-screenshots"))


def _screenshots_dir() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _age(demande_id: str, days: int) -> None:
    """Move a demande's history `days` back, as if that much time had passed."""
    with psycopg.connect(LIVE_DATABASE_URL) as conn:
        conn.execute(
            "UPDATE answer SET created_at = created_at - make_interval(days => %s)"
            " WHERE application = %s",
            (days, demande_id),
        )
        conn.execute(
            "UPDATE application SET created_at = created_at - make_interval(days => %s),"
            " updated_at = updated_at - make_interval(days => %s),"
            " archived_at = archived_at - make_interval(days => %s) WHERE id = %s",
            (days, days, days, demande_id),
        )


async def test_an_archived_then_wiped_demande_shown_to_its_creator(open_page, live_server):
    tag = uuid.uuid4().hex[:8]
    subject = f"Pension de réversion bloquée {tag}"
    last_name = f"Marchetti{tag}"
    description = f"Le dossier attend une pièce déjà envoyée deux fois ({tag})."

    # A fresh aidant: the demo one's login-link rate limit is spent by the other journeys.
    email = f"aidant-{tag}@fs.fr"
    create_account(live_server, email, "aidant", group="France Services Paris 18e")
    aidant = await open_page()
    await log_in(aidant, live_server, email)
    await aidant.wait_for_url("**/cgu**")
    await aidant.get_by_label("Prénom").fill("Inès")
    await aidant.get_by_label("Nom", exact=True).fill(f"Aidante{tag}")
    await aidant.get_by_label("Qualité").fill("Conseillère numérique")
    await aidant.get_by_label("Téléphone professionnel").fill("01 23 45 67 89")
    await aidant.locator("label[for=champ-accepte]").click()
    await aidant.get_by_role("button", name="Accepter et continuer").click()
    await expect(aidant.get_by_text("Merci, votre compte est prêt.")).to_be_visible()
    await aidant.goto("/demandes/nouvelle")
    picker = aidant.locator("#group-picker")
    await picker.locator("label", has_text="CAF de Paris").click()
    await aidant.locator("#subject").fill(subject)
    await aidant.locator("#usager_first_name").fill("Giulia")
    await aidant.locator("#usager_last_name").fill(last_name)
    await aidant.locator("#usager_birth_date").fill("1951-07-14")
    await aidant.get_by_label("Identifiant CAF").fill(CAF_ID)
    await aidant.get_by_label("Numéro de sécurité sociale").fill(NIR)
    await aidant.locator("label", has_text="Mandat papier signé par l'usager").click()
    await aidant.get_by_label("Description de la situation").fill(description)
    await aidant.locator("label[for=attestation]").click()
    await aidant.get_by_role("button", name="Envoyer la demande").click()
    await aidant.wait_for_url(re.compile(r"/demandes/[0-9a-f-]{36}$"))
    path = aidant.url.removeprefix(live_server.url)
    demande_id = path.rsplit("/", 1)[1]

    # On a demande nobody has answered yet, archiving is folded under the thread.
    await aidant.locator("summary", has_text="Archiver la demande").click()
    archive = aidant.locator("#archiver")
    await archive.locator("label[for=usefulness-oui]").click()
    await archive.get_by_role("button", name="Archiver").click()
    await expect(aidant.get_by_text("La demande est archivée.")).to_be_visible()

    _age(demande_id, 91)
    run_step(["jobs", "run", "wipe_personal_data"], live_server.env, ROOT)

    await aidant.goto("/demandes?onglet=archivees")
    row = aidant.locator(f"#demande-{demande_id}")
    await expect(row).to_contain_text("Données personnelles supprimées le")
    content = await aidant.content()
    assert subject not in content and last_name not in content
    await assert_accessible(aidant)
    shot = _screenshots_dir() / "wiped-in-archive-tab.png"
    await aidant.screenshot(path=str(shot), full_page=True)

    await row.get_by_role("link").click()
    await aidant.wait_for_url(live_server.url + path)
    await expect(aidant.get_by_role("heading", level=1)).to_have_text(
        "Demande archivée (données personnelles supprimées)"
    )
    await expect(aidant.locator("#donnees-supprimees")).to_contain_text(
        "la demande ne peut plus être rouverte"
    )
    await expect(aidant.get_by_role("button", name="Rouvrir la demande")).to_have_count(0)
    await expect(aidant.locator("#fil")).to_contain_text("Demande archivée")
    content = await aidant.content()
    for text in (subject, last_name, description, "Giulia", NIR, CAF_ID, "14/07/1951"):
        assert text not in content, text
    await assert_accessible(aidant)
    for width in (1024, 1280):
        await aidant.set_viewport_size({"width": width, "height": 768})
        await aidant.screenshot(path=str(SHOTS / f"wiped-demande-{width}.png"), full_page=True)
