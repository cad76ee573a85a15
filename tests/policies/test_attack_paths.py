"""The multi-step attack paths of issue 9, each played through real requests as the attacker
would: every step alone is a route the attacker may call; the end state is what must not be.

Each test asserts the outcome (the victim's account, what the attacker reads), not the status
of a step, so it holds whichever step the fix refuses.
"""

from __future__ import annotations

import re

import pytest
from factories import make_application, make_group, make_user

from app.domain import admin, applications, sessions
from app.tables import ManagerScope, User, UserSession

LINK = re.compile(r"http://testserver(/connexion/lien/[\w-]+)")
PRIVATE = "Zqxmreponseprivee"


async def reload(user: User) -> User:
    return await User.objects().get(User.id == user.id)


async def open_sessions(user: User) -> int:
    return await UserSession.count().where(
        (UserSession.user == user.id) & UserSession.revoked_at.is_null()
    )


def member_form(user: User, **changes) -> dict:
    """The inline row of "Mes groupes", as the browser posts it."""
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "qualite": user.qualite,
        "phone": user.phone,
    }
    data.update(changes)
    return data


def admin_user_form(user: User, **changes) -> dict:
    """The admin user form with the account's current values, then the attacker's changes."""
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "qualite": user.qualite,
        "phone": user.phone,
        "email": user.email,
        "internal_note": user.internal_note,
    }
    for flag, value in (
        ("is_helper", user.is_helper),
        ("is_instructor", user.is_instructor),
        ("is_collective", user.is_collective),
    ):
        if value:
            data[flag] = "1"
    data.update(changes)
    return data


# --- 1. an aidant disables an account that has no group ----------------------------------


@pytest.mark.parametrize("victim_kind", ["area_manager", "observer", "admin", "expert"])
async def test_path1_aidant_cannot_disable_a_groupless_account(client, login, db, victim_kind):
    fs = await make_group("france-services", name="France Services Paris")
    aidant = await make_user(helper_in=[fs])
    if victim_kind in ("area_manager", "observer"):
        victim = await make_user(email="victime@anct.gouv.fr")
        await admin.grant_scope(victim.id, victim_kind, None, "75")
    else:
        victim = await make_user(
            email="victime@anct.gouv.fr",
            admin=victim_kind == "admin",
            admin_areas=["75"] if victim_kind == "admin" else [],
            expert=victim_kind == "expert",
        )
    await sessions.create_session(victim.id)
    await login(aidant)

    await client.post_form(
        f"/groupes/{fs.id}/membres", {"email": victim.email, "confirm_instructor": "1"}
    )
    await client.post_form(f"/groupes/{fs.id}/membres/{victim.id}/desactivation")

    after = await reload(victim)
    assert after.disabled_at is None, f"the aidant disabled the {victim_kind} account"
    assert await open_sessions(victim) == 1, "the victim's sessions were ended"


# --- 2. a responsable rewrites an account that belongs elsewhere --------------------------


async def test_path2_responsable_cannot_rewrite_an_outsiders_identity_or_roles(client, login, db):
    caf75 = await make_group("caf", name="CAF de Paris")
    caf13 = await make_group("caf", areas=["13"], name="CAF des Bouches-du-Rhône")
    responsable = await make_user(manager_of=[caf75])
    outsider = await make_user(
        instructor_in=[caf13], first_name="Gaëlle", last_name="Leroy", email="g.leroy@caf13.fr"
    )
    await login(responsable)

    await client.post_form(
        f"/groupes/{caf75.id}/membres", {"email": outsider.email, "confirm_instructor": "1"}
    )
    await client.post_form(
        f"/groupes/{caf75.id}/membres/{outsider.id}",
        member_form(outsider, first_name="Autre", last_name="Personne"),
    )
    await client.post_form(f"/groupes/{caf75.id}/membres/{outsider.id}/desactivation")

    after = await reload(outsider)
    assert (after.first_name, after.last_name) == ("Gaëlle", "Leroy"), "identity rewritten"
    assert after.is_instructor, "the responsable of another group removed the instructeur role"
    assert after.disabled_at is None


# --- 3. a responsable makes themselves instructeur, then reads private messages ------------


async def test_path3_responsable_cannot_tick_instructeur_on_own_row_to_read_private_messages(
    client, login, db
):
    fs = await make_group("france-services", name="France Services Paris")
    caf = await make_group("caf", name="CAF de Paris")
    aidant = await make_user(helper_in=[fs])
    agent = await make_user(instructor_in=[caf])
    responsable = await make_user(manager_of=[caf], first_name="Rémi", last_name="Durand")
    demande = await make_application(by=aidant, to=[caf], from_group=fs)
    await applications.post_answer(demande.id, agent, body=PRIVATE, visibility="instructors")
    await login(responsable)

    await client.post_form(
        f"/groupes/{caf.id}/membres/{responsable.id}",
        member_form(responsable, is_instructor="1", is_manager="1", confirm_instructor="1"),
    )
    page = await client.get(f"/demandes/{demande.id}")

    assert PRIVATE not in page.text, "the responsable reads the instructeurs' private messages"
    assert not (await reload(responsable)).is_instructor, (
        "the responsable made themselves instructeur"
    )


# --- 4. an admin of some départements takes over accounts of others -----------------------


@pytest.fixture
async def seine_saint_denis(db):
    """A demande in 93 with a private message, its expert, the admin and an area manager of 93."""
    fs93 = await make_group("france-services", areas=["93"], name="France Services 93")
    caf93 = await make_group("caf", areas=["93"], name="CAF de Seine-Saint-Denis")
    aidant = await make_user(helper_in=[fs93])
    agent = await make_user(instructor_in=[caf93])
    expert = await make_user(expert=True, email="expert@anct.gouv.fr")
    admin93 = await make_user(admin=True, admin_areas=["93"], email="admin93@anct.gouv.fr")
    manager93 = await make_user(email="territoire93@anct.gouv.fr")
    await admin.grant_scope(manager93.id, "area_manager", "caf", "93")
    demande = await make_application(by=aidant, to=[caf93], from_group=fs93, area="93")
    await applications.add_users(demande.id, [expert.id], invited_by=agent.id)
    await applications.post_answer(demande.id, agent, body=PRIVATE, visibility="instructors")
    admin75 = await make_user(admin=True, admin_areas=["75"], email="admin75@anct.gouv.fr")
    return {
        "demande": demande,
        "expert": expert,
        "admin93": admin93,
        "manager93": manager93,
        "admin75": admin75,
    }


@pytest.mark.parametrize("victim_key", ["expert", "admin93", "manager93"])
async def test_path4_admin_cannot_readdress_an_account_outside_their_departements_and_log_in(
    client, login, mailbox, run_jobs, seine_saint_denis, victim_key
):
    world = seine_saint_denis
    victim = world[victim_key]
    attacker_address = "boite.perso@exemple.fr"
    await login(world["admin75"])

    await client.post_form(
        f"/admin/utilisateurs/{victim.id}", admin_user_form(victim, email=attacker_address)
    )
    # Then, as anyone holding the attacker's mailbox: ask a link, follow it, read the demande.
    client.cookies.clear()
    await client.post_form("/connexion", {"email": attacker_address})
    await run_jobs()
    page_text = ""
    for mail in mailbox.to(attacker_address):
        found = LINK.search(mail.text)
        if found:
            await client.post_form(found.group(1))
            # A first login asks for the CGU: the attacker accepts them.
            await client.post_form(
                "/cgu",
                {
                    "accepte": "oui",
                    "first_name": victim.first_name,
                    "last_name": victim.last_name,
                    "qualite": "Chargée de mission",
                    "phone": "01 23 45 67 89",
                },
            )
            page_text = (await client.get(f"/demandes/{world['demande'].id}")).text

    assert PRIVATE not in page_text, (
        f"the admin of 75 took over the {victim_key} and read the demande"
    )
    assert (await reload(victim)).email == victim.email, "the admin of 75 re-addressed the account"
    assert sessions.SESSION_COOKIE not in client.cookies, "the attacker's mailbox logs in"


async def test_path4_admin_cannot_disable_the_admin_of_another_departement(
    client, login, seine_saint_denis
):
    world = seine_saint_denis
    admin93 = world["admin93"]
    await sessions.create_session(admin93.id)
    await login(world["admin75"])

    await client.post_form(
        f"/admin/utilisateurs/{admin93.id}", admin_user_form(admin93, disabled="1")
    )

    assert (await reload(admin93)).disabled_at is None, "the admin of 75 disabled the admin of 93"
    assert await open_sessions(admin93) == 1


async def test_path4_admin_cannot_delete_the_area_manager_of_another_departement(
    client, login, seine_saint_denis
):
    """Found by the access matrix: an area manager has no group, so any admin deleted them."""
    world = seine_saint_denis
    manager93 = world["manager93"]
    await login(world["admin75"])

    await client.post_form(f"/admin/utilisateurs/{manager93.id}/suppression")

    assert await User.exists().where(User.id == manager93.id), "area manager of 93 deleted"
    assert await ManagerScope.exists().where(ManagerScope.user == manager93.id)


# --- 5. private messages through search and counts ----------------------------------------


async def _inbox_row(client, demande_id) -> str | None:
    """The creator's inbox row of the demande, whichever tab holds it."""
    first = await client.get("/demandes")
    tabs = re.findall(r'class="aplus-tabs__tab" href="([^"]+)"', first.text)
    assert tabs, "no tabs on the inbox"
    for href in tabs:
        text = (await client.get(href.replace("&amp;", "&"))).text
        found = re.search(rf'<tr id="demande-{demande_id}".*?</tr>', text, flags=re.S)
        if found:
            return found.group(0)
    return None


async def test_path5_multirole_creator_finds_nothing_and_counts_nothing_of_private_messages(
    client, login, db
):
    fs = await make_group("france-services", name="France Services Paris")
    caf = await make_group("caf", name="CAF de Paris")
    cpam = await make_group("cpam", name="CPAM de Paris")
    creator = await make_user(helper_in=[fs], instructor_in=[cpam])
    agent = await make_user(instructor_in=[caf])
    demande = await make_application(
        by=creator, to=[caf], from_group=fs, subject="Allocation logement"
    )
    await applications.post_answer(
        demande.id, agent, body="Vu avec topinambour au service.", visibility="instructors"
    )
    await login(creator)

    thread = await client.get(f"/demandes/{demande.id}")
    assert thread.status_code == 200 and "topinambour" not in thread.text
    inbox = (await client.get("/demandes")).text
    tabs = re.findall(r'class="aplus-tabs__tab" href="/demandes\?onglet=([\w-]+)"', inbox)
    assert len(tabs) == 5, tabs
    for tab in tabs:
        found = await client.post_form(
            "/demandes/recherche",
            {"recherche": "topinambour", "onglet": tab},
            headers={"HX-Request": "true"},
        )
        assert found.status_code == 200
        assert f"demande-{demande.id}" not in found.text, f"search finds it in the {tab} tab"
        counts = re.findall(r'aplus-tabs__tab".*?fr-badge[^>]*>([\d\s]+)', found.text, flags=re.S)
        assert counts and all(c.strip() == "0" for c in counts), f"tab counts {counts}"

    row = await _inbox_row(client, demande.id)
    assert row is not None, "the creator's own demande is missing from the inbox"
    messages_cell = re.findall(r"<td>(.*?)</td>", row, flags=re.S)[-1]
    assert "non lu" not in messages_cell, "the private message counts as unread"
    assert messages_cell.split("<")[0].strip() == "0", "the private message is counted"
