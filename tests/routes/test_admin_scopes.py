"""Admin user page: scopes of area managers and observers, on the admin's départements only."""

from bs4 import BeautifulSoup
from factories import make_group, make_user

from app.tables import AuditEvent, ManagerScope


def _text(response):
    return BeautifulSoup(response.text, "html.parser").get_text(" ")


async def _scopes(user) -> set[tuple]:
    rows = await ManagerScope.select(
        ManagerScope.role, ManagerScope.organisation, ManagerScope.area
    ).where(ManagerScope.user == user.id)
    return {(r["role"], r["organisation"], r["area"]) for r in rows}


async def test_admin_grants_an_area_manager_scope_that_takes_effect(client, login):
    admin = await make_user(admin=True, admin_areas=["75", "93"])
    caf_paris = await make_group(name="CAF Paris", organisation="caf", areas=["75"])
    await make_group(name="CPAM Paris", organisation="cpam", areas=["75"])
    person = await make_user(helper_in=[await make_group(name="FS 93", areas=["93"])])
    await login(admin)
    _, page = await client.page(f"/admin/utilisateurs/{person.id}")
    area_options = [o["value"] for o in page.select("#perimetre-area option")]
    assert area_options == ["", "75", "93"]
    assert page.select_one("label[for=perimetre-role]").text.strip() == "Rôle"
    response = await client.post_form(
        f"/admin/utilisateurs/{person.id}/perimetres",
        {"role": "area_manager", "organisation": "caf", "area": "75"},
    )
    assert response.status_code == 303
    assert await _scopes(person) == {("area_manager", "caf", "75")}
    [event] = await AuditEvent.select(
        AuditEvent.actor_id, AuditEvent.target_user_id, AuditEvent.changed_fields
    ).where(AuditEvent.code == "scope_granted")
    assert event == {
        "actor_id": admin.id,
        "target_user_id": person.id,
        "changed_fields": ["scopes"],
    }
    _, page = await client.page(f"/admin/utilisateurs/{person.id}")
    row = page.select_one("#perimetres-table tbody tr")
    assert "Responsable de territoire" in row.text and "CAF" in row.text and "(75)" in row.text
    # The new area manager now sees and manages the CAF group of Paris, not the CPAM one.
    await login(person)
    _, page = await client.page("/groupes")
    assert page.find(id=f"groupe-{caf_paris.id}") is not None
    assert "CPAM Paris" not in page.text


async def test_scope_validation_errors_write_nothing(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    person = await make_user(helper_in=[await make_group()])
    await login(admin)
    url = f"/admin/utilisateurs/{person.id}/perimetres"
    cases = [
        ({"role": "observer", "organisation": "", "area": ""}, "ligne de commande"),
        ({"role": "observer", "organisation": "", "area": "69"}, "Vous n'administrez pas"),
        ({"role": "observer", "organisation": "", "area": "999"}, "Département inconnu"),
        ({"role": "chef", "organisation": "", "area": "75"}, "Choisissez « responsable"),
        ({"role": "observer", "organisation": "pirate", "area": "75"}, "organisme dans la liste"),
    ]
    for data, message in cases:
        response = await client.post_form(url, data)
        assert response.status_code == 422, data
        assert message in _text(response), data
        page = BeautifulSoup(response.text, "html.parser")
        invalid = page.select_one("[aria-invalid=true]")
        assert page.find(id=invalid["aria-describedby"]).text.strip(), data
    assert await _scopes(person) == set()
    assert not await AuditEvent.exists().where(AuditEvent.code == "scope_granted")
    # Observers of every organisation of one département are fine; twice is refused.
    ok = {"role": "observer", "organisation": "", "area": "75"}
    assert (await client.post_form(url, ok)).status_code == 303
    again = await client.post_form(url, ok)
    assert again.status_code == 422 and "déjà ce périmètre" in _text(again)
    assert await _scopes(person) == {("observer", None, "75")}


async def test_admin_removes_scopes_of_their_departements_only(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    person = await make_user(helper_in=[await make_group()])
    mine = ManagerScope(user=person.id, role="area_manager", organisation="caf", area="75")
    await mine.save()
    # Issue 9: a scope beyond the admin's départements puts the whole account beyond them.
    national_observer = await make_user(helper_in=[await make_group()])
    national = ManagerScope(
        user=national_observer.id, role="observer", organisation=None, area=None
    )
    lyon_observer = await make_user(helper_in=[await make_group()])
    lyon = ManagerScope(user=lyon_observer.id, role="observer", organisation="cpam", area="69")
    for scope in (national, lyon):
        await scope.save()
    await login(admin)
    _, page = await client.page(f"/admin/utilisateurs/{person.id}")
    assert page.select_one(f"#perimetre-{mine.id} form") is not None
    for owner, other in ((national_observer, national), (lyon_observer, lyon)):
        assert (await client.get(f"/admin/utilisateurs/{owner.id}")).status_code == 404
        response = await client.post_form(
            f"/admin/utilisateurs/{owner.id}/perimetres/{other.id}/retrait"
        )
        assert response.status_code == 404
    assert await _scopes(national_observer) == {("observer", None, None)}
    assert await _scopes(lyon_observer) == {("observer", "cpam", "69")}
    response = await client.post_form(
        f"/admin/utilisateurs/{person.id}/perimetres/{mine.id}/retrait"
    )
    assert response.status_code == 303
    assert await _scopes(person) == set()
    [event] = await AuditEvent.select(AuditEvent.changed_fields).where(
        AuditEvent.code == "scope_removed"
    )
    assert event["changed_fields"] == ["scopes"]


async def test_scopes_outside_the_admin_scope_or_role(client, login):
    admin = await make_user(admin=True, admin_areas=["75"])
    lyon_user = await make_user(helper_in=[await make_group(areas=["69"])])
    other = await make_user(helper_in=[await make_group()])
    scope = ManagerScope(user=lyon_user.id, role="observer", organisation=None, area="69")
    await scope.save()
    await login(admin)
    data = {"role": "observer", "organisation": "", "area": "75"}
    assert (
        await client.post_form(f"/admin/utilisateurs/{lyon_user.id}/perimetres", data)
    ).status_code == 404
    # A scope id of another user is not this user's scope.
    response = await client.post_form(
        f"/admin/utilisateurs/{other.id}/perimetres/{scope.id}/retrait"
    )
    assert response.status_code == 303
    assert await ManagerScope.exists().where(ManagerScope.id == scope.id)
    boss = await make_user(manager_of=[await make_group()])
    await login(boss)
    # Issue 9: the account is loaded through the admin's scope before the rule: none for a
    # responsable, so a 404 (it was a 403 from the route rule before).
    assert (
        await client.post_form(f"/admin/utilisateurs/{other.id}/perimetres", data)
    ).status_code == 404
    assert await _scopes(other) == set()
