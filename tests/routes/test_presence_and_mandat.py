""" "X consulte cette demande" (the polled presence fragment) and the printable mandat: who gets
them, what they show, and the 404 for anyone outside the demande."""

from __future__ import annotations

from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user

from app import clock
from app.domain import presence
from app.tables import Application, AuditEvent

pytest_plugins = ["support.demandes"]


async def demande(world):
    return await make_application(
        by=world.aidant,
        to=[world.caf, world.cpam],
        from_group=world.fs,
        usager=("Élodie", "Dupont"),
    )


async def poll(client, application, *, writing: bool = False):
    data = {"ecrit": "1"} if writing else {}
    return await client.post_form(
        f"/demandes/{application.id}/presence", data, headers={"HX-Request": "true"}
    )


def shown(response) -> str:
    return " ".join(BeautifulSoup(response.text, "html.parser").get_text().split())


async def test_each_viewer_sees_the_others_present_then_not_after_expiry(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    alone = await poll(client, application)
    assert alone.status_code == 200 and shown(alone) == ""

    await login(world.aidant)
    response = await poll(client, application, writing=True)
    caf_agent = f"{world.caf_agent.first_name} {world.caf_agent.last_name}".strip()
    assert caf_agent and shown(response) == f"{caf_agent} consulte cette demande"

    await login(world.caf_agent)
    response = await poll(client, application)
    text = shown(response)
    assert f"{world.aidant.first_name} {world.aidant.last_name}" in text
    assert "consulte cette demande (écrit une réponse)" in text
    # Not themselves.
    assert world.caf_agent.last_name not in text

    # Someone who stopped polling is gone after the short expiry.
    clock.travel(presence.EXPIRY.total_seconds() + 1)
    try:
        assert shown(await poll(client, application)) == ""
    finally:
        clock.reset()


async def test_presence_is_a_404_outside_the_demande_and_refused_to_the_anonymised_view(
    client, login, world
):
    application = await demande(world)
    await login(world.caf_agent)
    await poll(client, application)
    # A user of another group: the same 404 as the page, in the audit log.
    await login(world.caf13_agent)
    assert (await poll(client, application)).status_code == 404
    events = await AuditEvent.select(AuditEvent.code).where(
        AuditEvent.actor_id == world.caf13_agent.id
    )
    assert [e["code"] for e in events] == ["not_found_in_scope"]
    # An admin of the département sees the demande anonymised (so a 403 tells them nothing
    # new), but not who is looking at it.
    admin = await make_user(admin=True, admin_areas=["75"])
    await login(admin)
    assert (await poll(client, application)).status_code == 403
    # Their refused polls left no trace of presence.
    rows = await Application.raw(
        'SELECT "user" FROM application_presence WHERE application = {}', application.id
    )
    assert [r["user"] for r in rows] == [world.caf_agent.id]


async def test_demande_page_polls_presence_only_for_readers(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    _, page = await client.page(f"/demandes/{application.id}")
    box = page.select_one("#presence")
    assert box["hx-post"] == f"/demandes/{application.id}/presence"
    assert box["aria-live"] == "polite"
    assert f"every {presence.POLL_SECONDS}s" in box["hx-trigger"]
    # Nothing is said without JavaScript: the box is empty in the page itself.
    assert box.get_text(strip=True) == ""


async def test_mandat_from_the_demande_is_prefilled_for_the_creator(client, login, world):
    application = await demande(world)
    await login(world.aidant)
    _, page = await client.page(f"/demandes/{application.id}")
    link = page.select_one(f"a[href='/demandes/{application.id}/mandat']")
    assert link is not None
    response, page = await client.page(f"/demandes/{application.id}/mandat")
    assert response.status_code == 200
    text = " ".join(page.select_one(".aplus-mandat").get_text().split())
    assert "Élodie" in text and "Dupont" in text and "02/03/1985" in text
    assert "France Services Paris 18e" in text
    assert "CAF de Paris" in text and "CPAM de Paris" in text
    assert "supprimées d'Administration+ 90 jours après la clôture" in text
    # Its own print stylesheet, and a page that is not cached (personal data).
    assert page.select_one("link[media=print][href='/static/css/mandat.print.css']")
    assert response.headers["cache-control"] == "no-store"


async def test_mandat_is_not_for_instructeurs_nor_outsiders(client, login, world):
    application = await demande(world)
    await login(world.caf_agent)
    assert (await client.get(f"/demandes/{application.id}/mandat")).status_code == 403
    _, page = await client.page(f"/demandes/{application.id}")
    assert page.select_one("a[href$='/mandat']") is None
    await login(world.caf13_agent)
    assert (await client.get(f"/demandes/{application.id}/mandat")).status_code == 404
    other_fs = await make_group("france-services", name="France Services Marseille")
    stranger = await make_user(helper_in=[other_fs], email="autre@fs.fr")
    await login(stranger)
    assert (await client.get(f"/demandes/{application.id}/mandat")).status_code == 404


async def test_mandat_from_the_creation_form_stores_nothing(client, login, world):
    await login(world.aidant)
    before = await Application.count()
    response = await client.post_form(
        "/demandes/nouvelle/mandat",
        {
            "area": "75",
            "creator_group": str(world.fs.id),
            "groups": [str(world.caf.id), str(world.caf13.id)],
            "usager_first_name": "Noé",
            "usager_last_name": "Martin",
            "usager_birth_date": "1990-07-14",
            "mandat_date": "2026-11-30",
        },
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    text = " ".join(page.select_one(".aplus-mandat").get_text().split())
    assert "Noé" in text and "Martin" in text and "14/07/1990" in text
    assert "le 30/11/2026" in text and "France Services Paris 18e" in text
    # Only organismes of the chosen territoire are named (the 13 one was forged in).
    assert "CAF de Paris" in text and "Bouches-du-Rhône" not in text
    assert await Application.count() == before
    # A half-filled form still prints, with blanks to fill in by hand.
    response = await client.post_form(
        "/demandes/nouvelle/mandat", {"usager_birth_date": "pas une date"}
    )
    assert response.status_code == 200
    assert BeautifulSoup(response.text, "html.parser").select(".aplus-mandat__blank")


async def test_mandat_from_the_creation_form_needs_an_aidant(client, login, world):
    await login(world.caf_agent)
    response = await client.post_form("/demandes/nouvelle/mandat", {"usager_last_name": "X"})
    assert response.status_code == 403
