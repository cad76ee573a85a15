"""`/statistiques` through real requests: each role sees its own scope, an edited URL never
widens it (403), bad filters get a French error with the input kept, htmx gets the figures
alone, CSV without personal data, the public page without login, the deployment view, and
where each role lands after login."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

import pytest
from factories import make_application, make_group, make_user

from app import clock
from app.domain import applications, statistics
from app.tables import AuditEvent, LoginToken, ManagerScope

pytestmark = pytest.mark.usefixtures("db")


async def scope(user, role, organisation=None, area=None):
    await ManagerScope(user=user.id, role=role, organisation=organisation, area=area).save()


@pytest.fixture
async def world(db):
    caf75 = await make_group("caf", ["75"], name="CAF de Paris")
    cpam75 = await make_group("cpam", ["75"], name="CPAM de Paris")
    caf92 = await make_group("caf", ["92"], name="CAF des Hauts-de-Seine")
    fs75 = await make_group(
        "france-services", ["75"], name="FS Paris 18", network="France Services"
    )
    fs92 = await make_group("france-services", ["92"], name="FS Nanterre")
    aidant75 = await make_user(helper_in=[fs75])
    aidant92 = await make_user(helper_in=[fs92])
    instr = await make_user(instructor_in=[caf75, cpam75, caf92])
    responsable = await make_user(instructor_in=[caf75], manager_of=[caf75])
    manager92 = await make_user()
    await scope(manager92, "area_manager", "caf", "92")
    observer = await make_user()
    await scope(observer, "observer")
    observer_cpam75 = await make_user()
    await scope(observer_cpam75, "observer", "cpam", "75")
    admin75 = await make_user(admin=True, admin_areas=["75"])
    now = clock.now()
    # Paris: 3 to CAF (one also to CPAM), 1 to CPAM only; Hauts-de-Seine: 2 to CAF.
    for days, to in ((40, [caf75]), (30, [caf75, cpam75]), (20, [caf75]), (10, [cpam75])):
        app = await make_application(
            by=aidant75,
            to=to,
            from_group=fs75,
            usager=("Zoé", "Confidentielle"),
            created_at=now - timedelta(days=days),
        )
        await applications.post_answer(app.id, instr, body="Vu", created_at=app.created_at)
    for days in (15, 5):
        await make_application(
            by=aidant92, to=[caf92], from_group=fs92, area="92",
            created_at=now - timedelta(days=days),
        )  # fmt: skip
    await statistics.refresh(full=True)
    return {
        "groups": {"caf75": caf75, "cpam75": cpam75, "caf92": caf92, "fs75": fs75},
        "aidant75": aidant75,
        "responsable": responsable,
        "manager92": manager92,
        "observer": observer,
        "observer_cpam75": observer_cpam75,
        "admin75": admin75,
        "instr": instr,
    }


def total(soup) -> int:
    text = soup.select_one("#statistiques-resume").get_text(" ", strip=True)
    return int(re.search(r": (\d+) demande", text).group(1))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("observer", 6),
        ("observer_cpam75", 2),
        ("responsable", 3),
        ("manager92", 2),
        ("admin75", 4),
        ("aidant75", 4),
    ],
)
async def test_each_role_sees_the_figures_of_its_scope(client, login, world, who, expected):
    await login(world[who])
    response, soup = await client.page("/statistiques")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert total(soup) == expected


async def test_a_person_without_scope_is_refused(client, login, world):
    await login(await make_user(instructor=True))
    assert (await client.get("/statistiques")).status_code == 403


@pytest.mark.parametrize(
    ("who", "query"),
    [
        ("responsable", "groupe={caf92}"),
        ("responsable", "departement=92"),
        ("manager92", "departement=75"),
        ("manager92", "groupe={caf75}"),
        ("manager92", "organisation=cpam"),
        ("aidant75", "groupe={caf92}"),
        ("aidant75", "departement=92"),
        ("admin75", "departement=92"),
        ("observer_cpam75", "organisation=caf"),
        ("observer_cpam75", "departement=92"),
        ("observer_cpam75", "groupe={caf75}"),
        ("responsable", "groupe=pas-un-uuid"),
    ],
)
async def test_an_edited_url_never_widens_the_scope(client, login, world, who, query):
    await login(world[who])
    ids = {k: str(g.id) for k, g in world["groups"].items()}
    for path in ("/statistiques", "/statistiques/export.csv"):
        response = await client.get(f"{path}?{query.format(**ids)}")
        assert response.status_code == 403, (path, query)
    assert await AuditEvent.exists().where(
        (AuditEvent.code == "access_denied") & (AuditEvent.actor_id == world[who].id)
    )


async def test_filters_narrow_inside_the_scope(client, login, world):
    await login(world["observer"])
    caf75 = world["groups"]["caf75"].id
    _, soup = await client.page("/statistiques?departement=75")
    assert total(soup) == 4
    _, soup = await client.page(f"/statistiques?groupe={caf75}")
    assert total(soup) == 3
    _, soup = await client.page("/statistiques?organisation=caf&departement=92")
    assert total(soup) == 2
    _, soup = await client.page("/statistiques?reseau=France+Services")
    assert total(soup) == 4
    # The area manager narrows their CAF 92 scope to nothing by asking for CPAM... refused;
    # the responsable may cross their group with CPAM: the demande sent to both.
    await login(world["responsable"])
    _, soup = await client.page("/statistiques?organisation=cpam")
    assert total(soup) == 1


async def test_bad_months_get_a_french_error_with_the_input_kept(client, login, world):
    await login(world["observer"])
    response, soup = await client.page("/statistiques?du=2026-13&au=2026-01")
    assert response.status_code == 400
    assert "Indiquez un mois au format AAAA-MM" in soup.select_one("#filtre-du-erreur").get_text()
    assert soup.select_one("#filtre-du")["value"] == "2026-13"
    response, soup = await client.page("/statistiques?du=2026-05&au=2026-01")
    assert response.status_code == 400
    assert "mois de fin" in soup.select_one("#filtre-au-erreur").get_text()


async def test_charts_have_title_desc_and_a_table_beside(client, login, world):
    await login(world["observer"])
    _, soup = await client.page("/statistiques")
    svgs = soup.select("svg.aplus-chart")
    assert len(svgs) == 3
    for svg in svgs:
        assert svg["role"] == "img"
        title, desc = svg.find("title"), svg.find("desc")
        assert title.get_text() and desc.get_text()
        assert svg["aria-labelledby"] == f"{title['id']} {desc['id']}"
        section = svg.find_parent("section")
        assert section.find("table") is not None
    assert not soup.select("script[src*='chart']")


async def test_htmx_gets_only_the_figures(client, login, world):
    await login(world["observer"])
    response = await client.get("/statistiques?departement=92", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="statistiques-resultats">')
    assert "<html" not in response.text


async def test_csv_of_each_table_without_personal_data(client, login, world):
    await login(world["observer"])
    for table, first in (("mois", "Mois"), ("organisations", "Organisme")):
        response = await client.get(f"/statistiques/export.csv?departement=75&tableau={table}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "Confidentielle" not in response.text and "Zoé" not in response.text
        rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0][0] == first
        if table == "organisations":
            body = {(r[2], r[3]): int(r[4]) for r in rows[1:]}
            assert body == {("caf", "75"): 3, ("cpam", "75"): 2, ("france-services", "75"): 4}
    response = await client.get("/statistiques/export.csv?departement=92&tableau=synthese")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][2] == "Demandes créées" and rows[0][-1] == "En souffrance en ce moment"
    assert len(rows) == 2 and rows[1][2] == "2"
    await login(world["responsable"])
    response = await client.get("/statistiques/export.csv?tableau=groupes")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["CAF de Paris"] and rows[1][1] == "3"


async def test_public_page_needs_no_login_and_is_cached(client, world):
    statistics.clear_public_cache()
    response, soup = await client.page("/statistiques/publiques")
    assert response.status_code == 200
    assert "6" in soup.select_one(".aplus-kpi__value").get_text()
    assert len(soup.select("svg.aplus-chart title")) == 3
    rows = {tr.th.get_text(strip=True) for tr in soup.select("#table-departements tbody tr")}
    assert rows == {"Paris (75)", "Hauts-de-Seine (92)"}
    # Cached for 10 minutes: a new demande shows once they are over.
    aidant = world["aidant75"]
    await make_application(by=aidant, to=[world["groups"]["caf75"]])
    await statistics.refresh()
    clock.travel(9 * 60)
    _, again = await client.page("/statistiques/publiques")
    assert again.select_one(".aplus-kpi__value").get_text(strip=True) == "6"
    clock.travel(2 * 60)
    _, fresh = await client.page("/statistiques/publiques")
    assert fresh.select_one(".aplus-kpi__value").get_text(strip=True) == "7"
    csv_response = await client.get("/statistiques/publiques/export.csv?tableau=departements")
    assert csv_response.status_code == 200 and "Paris (75)" in csv_response.text


async def test_deployment_view_for_observers_and_admins_only(client, login, world):
    await login(world["observer"])
    response, soup = await client.page("/statistiques/deploiement?organisation=caf")
    assert response.status_code == 200
    caf = next(tr for tr in soup.select("tbody tr") if tr.th.get_text(strip=True) == "CAF")
    cells = [td.get_text(strip=True) for td in caf.select("td")]
    # The instructeur is in CAF 75 and CAF 92, the responsable in CAF 75.
    assert cells[0] == "3" and cells[1].startswith("2 sur")
    missing = soup.select_one("#detail").get_text()
    assert "Ain (01)" in missing and "Paris (75) :" in missing
    await login(world["admin75"])
    _, soup = await client.page("/statistiques/deploiement")
    assert "1 département" in soup.get_text()
    assert (await client.get("/statistiques/deploiement?organisation=inconnu")).status_code == 403
    await login(world["responsable"])
    assert (await client.get("/statistiques/deploiement")).status_code == 403


async def _log_in_by_link(client, user, next_path="/"):
    raw = f"jeton-{user.id}"
    await LoginToken(
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        user=user.id,
        expires_at=clock.now() + timedelta(minutes=30),
        next_path=next_path,
    ).save()
    response = await client.post_form(f"/connexion/lien/{raw}")
    assert response.status_code == 303
    return response.headers["location"]


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("observer", "/statistiques"),
        ("manager92", "/statistiques"),
        ("admin75", "/admin"),
        ("aidant75", "/demandes"),
        ("responsable", "/demandes"),
    ],
)
async def test_landing_after_login(client, world, who, landing):
    assert await _log_in_by_link(client, world[who]) == landing


async def test_suivant_still_wins_over_the_landing(client, world):
    assert await _log_in_by_link(client, world["observer"], "/groupes") == "/groupes"


async def test_admins_ask_for_a_refresh_that_the_worker_runs(client, login, world, run_jobs):
    before = await statistics.last_refresh()
    await login(world["observer"])
    assert (await client.post_form("/statistiques/rafraichir")).status_code == 403
    await login(world["admin75"])
    _, soup = await client.page("/statistiques")
    assert soup.find("button", string="Recalculer maintenant") is not None
    response = await client.post_form("/statistiques/rafraichir")
    assert response.status_code == 303
    await run_jobs()
    assert await statistics.last_refresh() > before
