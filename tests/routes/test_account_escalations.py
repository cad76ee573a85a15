"""Issue 9, escalations 1–4, replayed through HTTP as an attacker would, step by step.

Each path ends with the same checks: the decisive request is refused (403 or 404, with an
audit event), and the victim's account is exactly what it was before the attack (row,
memberships, scopes, live sessions).
"""

from bs4 import BeautifulSoup
from factories import make_group, make_user

from app.domain import sessions
from app.tables import AuditEvent, ManagerScope, Membership, User

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/groupes"}


async def _account_state(user_id) -> dict:
    """Everything an attacker could change about an account."""
    user = await User.select().where(User.id == user_id).first()
    memberships = await Membership.select(
        Membership.group, Membership.is_manager, Membership.governs_account
    ).where(Membership.user == user_id)
    scopes = await ManagerScope.select(
        ManagerScope.role, ManagerScope.organisation, ManagerScope.area
    ).where(ManagerScope.user == user_id)
    return {
        "user": user,
        "memberships": sorted(memberships, key=lambda m: str(m["group"])),
        "scopes": sorted(scopes, key=str),
    }


async def _codes() -> list[str]:
    return [r["code"] for r in await AuditEvent.select(AuditEvent.code)]


def _row(response, group, user):
    return BeautifulSoup(response.text, "html.parser").find(id=f"membre-{group.id}-{user.id}")


async def _victims() -> dict:
    """Accounts in no group: an area manager, an observer, an admin, an expert, a dormant
    aidant whose last group was removed."""
    area_manager = await make_user(email="territoire@caf.fr")
    await ManagerScope(
        user=area_manager.id, role="area_manager", organisation="caf", area="75"
    ).save()
    observer = await make_user(email="observateur@dgfip.fr")
    await ManagerScope(user=observer.id, role="observer", organisation=None, area=None).save()
    return {
        "area manager": area_manager,
        "observer": observer,
        "admin": await make_user(admin=True, admin_areas=["93"], email="admin93@aplus.fr"),
        "expert": await make_user(expert=True, email="expert@aplus.fr"),
        "dormant aidant": await make_user(helper=True, email="ancienne@fs.fr"),
    }


# --- 1. an aidant adds an account to their group, then disables it ----------------------------


async def test_escalation_1_aidant_adds_then_disables_accounts_of_no_group(client, login):
    fs = await make_group("france-services", name="France Services")
    aidant = await make_user(helper_in=[fs])
    for kind, victim in (await _victims()).items():
        raw = await sessions.create_session(victim.id)
        before = await _account_state(victim.id)
        await login(aidant)
        added = await client.post_form(f"/groupes/{fs.id}/membres", {"email": victim.email})
        assert added.status_code == 303, kind
        page = await client.get(f"/groupes/{fs.id}")
        row = _row(page, fs, victim)
        # Adding gave no power over the account: no "Désactiver", no "Modifier".
        assert "Désactiver" not in row.text and "Modifier" not in row.text, kind
        assert "Retirer du groupe" in row.text, kind
        response = await client.post_form(f"/groupes/{fs.id}/membres/{victim.id}/desactivation")
        # The only thing left to do is to undo the addition: the account is untouched.
        assert response.status_code == 303, kind
        assert await _account_state(victim.id) == before, kind
        assert await sessions.load_session_user(raw) is not None, kind
    assert "user_disabled" not in await _codes()


async def test_escalation_1_hidden_button_or_not_the_post_never_disables(client, login):
    """The account also has a group the aidant is not in: not even removal from a group of
    theirs disables it, and its own group keeps it."""
    fs = await make_group("france-services")
    caf = await make_group("caf")
    aidant = await make_user(helper_in=[fs])
    victim = await make_user(instructor_in=[caf], email="agent@caf.fr")
    await login(aidant)
    await client.post_form(f"/groupes/{fs.id}/membres", {"email": victim.email})
    response = await client.post_form(f"/groupes/{caf.id}/membres/{victim.id}/desactivation")
    assert response.status_code == 404
    assert (await User.objects().get(User.id == victim.id)).disabled_at is None
    assert "not_found_in_scope" in await _codes()


# --- 2. a responsable rewrites an account that belongs elsewhere --------------------------------


async def test_escalation_2_responsable_adds_an_instructeur_then_rewrites_them(client, login):
    caf93 = await make_group("caf", areas=["93"], name="CAF 93")
    victim = await make_user(
        instructor_in=[caf93], email="gaelle.leroy@caf93.fr", first_name="Gaëlle", last_name="Leroy"
    )
    paris = await make_group("france-services", name="FS Paris")
    boss = await make_user(manager_of=[paris])
    before = await _account_state(victim.id)
    await login(boss)
    assert (
        await client.post_form(f"/groupes/{paris.id}/membres", {"email": victim.email})
    ).status_code == 303
    url = f"/groupes/{paris.id}/membres/{victim.id}"
    # The row form offers only this group's role, never the account's name or roles.
    form = await client.get(url + "/edition", headers=HX)
    assert form.status_code == 200
    assert 'name="first_name"' not in form.text and 'name="is_instructor"' not in form.text
    assert 'name="is_manager"' in form.text
    response = await client.post_form(
        url, {"first_name": "Autre", "last_name": "Nom", "is_manager": ""}, headers=HX
    )
    assert response.status_code == 403
    # Without is_instructor the old form meant "no longer instructeur": refused as well.
    response = await client.post_form(url, {"qualite": "x"})
    assert response.status_code == 403
    assert "access_denied" in await _codes()
    # Then removes them again: the account is as it was before the attack.
    response = await client.post_form(url + "/desactivation")
    assert response.status_code == 303
    assert await _account_state(victim.id) == before


async def test_escalation_2_leaving_the_home_group_through_a_second_group_is_refused(client, login):
    """A member of the victim's group who is responsable elsewhere brings the victim into
    their own group, then takes them out of the group that governs them: refused, or the
    account would pass to the attacker's group."""
    home = await make_group("caf", name="CAF Paris")
    mine = await make_group("france-services", name="FS Paris")
    attacker = await make_user(helper_in=[home], manager_of=[mine])
    victim = await make_user(helper_in=[home], email="collegue@caf.fr")
    await make_user(manager_of=[home])
    await login(attacker)
    await client.post_form(f"/groupes/{mine.id}/membres", {"email": victim.email})
    before = await _account_state(victim.id)
    page = await client.get(f"/groupes/{home.id}")
    assert "Retirer du groupe" not in _row(page, home, victim).text
    response = await client.post_form(f"/groupes/{home.id}/membres/{victim.id}/desactivation")
    assert response.status_code == 403
    response = await client.post_form(
        f"/groupes/{mine.id}/membres/{victim.id}", {"first_name": "Pirate", "is_manager": ""}
    )
    assert response.status_code == 403
    assert await _account_state(victim.id) == before


async def test_responsable_still_governs_the_accounts_of_their_group(client, login):
    """The rule takes nothing from a responsable over people created in their group."""
    caf = await make_group()
    boss = await make_user(manager_of=[caf])
    member = await make_user(helper_in=[caf])
    await login(boss)
    form = await client.get(f"/groupes/{caf.id}/membres/{member.id}/edition", headers=HX)
    assert 'name="first_name"' in form.text and 'name="is_instructor"' in form.text
    response = await client.post_form(
        f"/groupes/{caf.id}/membres/{member.id}", {"first_name": "Anne", "is_manager": "1"}
    )
    assert response.status_code == 303
    user = await User.objects().get(User.id == member.id)
    assert user.first_name == "Anne"
    assert await Membership.exists().where(
        (Membership.user == member.id)
        & (Membership.group == caf.id)
        & Membership.is_manager.eq(True)
    )


async def test_a_hosted_member_can_be_made_responsable_of_the_group(client, login):
    """The group's own role stays the group's, even on an account governed elsewhere."""
    home = await make_group("caf", areas=["93"])
    mine = await make_group()
    boss = await make_user(manager_of=[mine])
    guest = await make_user(instructor_in=[home], first_name="Inès")
    await login(boss)
    await client.post_form(f"/groupes/{mine.id}/membres", {"email": guest.email})
    response = await client.post_form(
        f"/groupes/{mine.id}/membres/{guest.id}", {"is_manager": "1"}, headers=HX
    )
    assert response.status_code == 200 and "Responsable" in response.text
    user = await User.objects().get(User.id == guest.id)
    assert (user.first_name, user.is_instructor) == ("Inès", True)


# --- 3. a responsable makes themselves instructeur -------------------------------------------


async def test_escalation_3_responsable_ticks_instructeur_on_their_own_row(client, login):
    caf = await make_group()
    boss = await make_user(manager_of=[caf], helper=True)
    await make_user(manager_of=[caf])
    before = await _account_state(boss.id)
    await login(boss)
    page = await client.get(f"/groupes/{caf.id}")
    assert "Modifier" not in _row(page, caf, boss).text
    url = f"/groupes/{caf.id}/membres/{boss.id}"
    assert (await client.get(url + "/edition")).status_code == 403
    response = await client.post_form(
        url, {"is_instructor": "1", "is_manager": "1", "confirm_instructor": "1"}
    )
    assert response.status_code == 403
    response = await client.post_form(url, {"is_instructor": "1", "is_manager": "1"}, headers=HX)
    assert response.status_code == 403
    assert await _account_state(boss.id) == before
    assert "access_denied" in await _codes()


# --- 4. an admin of some départements takes over the admins and experts of others -----------


async def test_escalation_4_admin_of_75_changes_email_of_an_expert_or_admin_of_93(client, login):
    admin75 = await make_user(admin=True, admin_areas=["75"], email="admin75@aplus.fr")
    paris = await make_group()
    expert = await make_user(expert=True, email="expert@aplus.fr")
    admin93 = await make_user(admin=True, admin_areas=["93"], email="admin93@aplus.fr")
    # An admin flag wins even over the admin's own départements.
    admin_in_paris = await make_user(admin=True, admin_areas=["75"], helper_in=[paris])
    raws = {v.id: await sessions.create_session(v.id) for v in (expert, admin93, admin_in_paris)}
    await login(admin75)
    for victim in (expert, admin93, admin_in_paris):
        before = await _account_state(victim.id)
        assert (await client.get(f"/admin/utilisateurs/{victim.id}")).status_code == 404
        response = await client.post_form(
            f"/admin/utilisateurs/{victim.id}", {"email": "pirate@exemple.fr"}
        )
        assert response.status_code == 404
        response = await client.post_form(
            f"/admin/utilisateurs/{victim.id}", {"email": victim.email, "disabled": "1"}
        )
        assert response.status_code == 404
        assert await _account_state(victim.id) == before
        assert await sessions.load_session_user(raws[victim.id]) is not None
    _, page = await client.page("/admin/utilisateurs")
    for victim in (expert, admin93, admin_in_paris):
        assert victim.email not in page.text
    assert "not_found_in_scope" in await _codes()


async def test_escalation_4_admin_pulls_an_account_into_their_departements_first(client, login):
    """Pre-registering an account into one of my groups does not make it mine: an expert, a
    dormant account, an instructeur of 93."""
    admin75 = await make_user(admin=True, admin_areas=["75"])
    paris = await make_group(organisation="france-services")
    expert = await make_user(expert=True, email="expert@aplus.fr")
    dormant = await make_user(helper=True, email="dormante@fs.fr")
    agent93 = await make_user(instructor_in=[await make_group(areas=["93"])], email="a@caf93.fr")
    await login(admin75)
    text = "\n".join(v.email for v in (expert, dormant, agent93))
    response = await client.post_form(
        "/admin/preinscription", {"emails": text, "group": str(paris.id), "operation": "confirmer"}
    )
    assert response.status_code == 303
    for victim in (expert, dormant, agent93):
        assert await Membership.exists().where(
            (Membership.user == victim.id) & (Membership.group == paris.id)
        )
        before = await _account_state(victim.id)
        response = await client.post_form(
            f"/admin/utilisateurs/{victim.id}", {"email": "pirate@exemple.fr"}
        )
        assert response.status_code == 404
        assert await _account_state(victim.id) == before
        # Nor from the group page of that group, where the admin is not a member.
        response = await client.post_form(
            f"/groupes/{paris.id}/membres/{victim.id}", {"first_name": "Pirate"}
        )
        assert response.status_code == 403
        assert await _account_state(victim.id) == before


async def test_escalation_4_admin_of_75_disables_the_admin_of_93(client, login):
    admin75 = await make_user(admin=True, admin_areas=["75"])
    group93 = await make_group(areas=["93"])
    shared = await make_group(areas=["75", "93"])
    admin93 = await make_user(admin=True, admin_areas=["93"], manager_of=[group93, shared])
    await make_user(manager_of=[shared])
    await login(admin75)
    before = await _account_state(admin93.id)
    response = await client.post_form(
        f"/admin/utilisateurs/{admin93.id}", {"email": admin93.email, "disabled": "1"}
    )
    assert response.status_code == 404
    # Through the shared group's page (the admin of 75 administers that group): nothing on
    # the account; leaving that group is all a group screen does to an admin account.
    raw = await sessions.create_session(admin93.id)
    page = await client.get(f"/groupes/{shared.id}")
    row = _row(page, shared, admin93)
    assert "Désactiver" not in row.text and "Modifier" not in row.text
    url = f"/groupes/{shared.id}/membres/{admin93.id}"
    assert (await client.post_form(url, {"is_manager": ""})).status_code == 403
    assert await _account_state(admin93.id) == before
    response = await client.post_form(url + "/desactivation")
    assert response.status_code == 303
    after = await _account_state(admin93.id)
    assert after["user"] == before["user"] and after["scopes"] == before["scopes"]
    assert [m["group"] for m in after["memberships"]] == [group93.id]
    assert await sessions.load_session_user(raw) is not None
    assert "user_disabled" not in await _codes()


async def test_admin_governs_accounts_all_in_their_departements_only(client, login):
    admin75 = await make_user(admin=True, admin_areas=["75"])
    paris, lyon = await make_group(areas=["75"]), await make_group(areas=["69"])
    mine = await make_user(helper_in=[paris], email="mine@fs.fr")
    shared = await make_user(helper_in=[paris, lyon], email="shared@fs.fr")
    await login(admin75)
    assert (await client.get(f"/admin/utilisateurs/{mine.id}")).status_code == 200
    before = await _account_state(shared.id)
    assert (await client.get(f"/admin/utilisateurs/{shared.id}")).status_code == 404
    response = await client.post_form(f"/admin/utilisateurs/{shared.id}", {"email": "x@y.fr"})
    assert response.status_code == 404
    assert await _account_state(shared.id) == before


async def test_admin_never_strands_an_account_without_a_governing_group(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    paris, other = await make_group(), await make_group()
    agent = await make_user(helper_in=[paris])
    await login(admin)
    _, page = await client.page(f"/admin/utilisateurs/{agent.id}")
    assert page.select_one(f"#appartenance-{paris.id} form") is None
    response = await client.post_form(f"/admin/utilisateurs/{agent.id}/groupes/{paris.id}/retrait")
    assert response.status_code == 403
    assert await Membership.exists().where(Membership.user == agent.id)
    await client.post_form(f"/admin/utilisateurs/{agent.id}/groupes", {"group": str(other.id)})
    _, page = await client.page(f"/admin/utilisateurs/{agent.id}")
    assert page.select_one(f"#appartenance-{paris.id} form") is not None
