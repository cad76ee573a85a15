"""The access matrix (issue 9): every route of the app × every kind of account × the objects
that account must not touch, as a page, an htmx fragment and a POST with a valid CSRF token.

No response may show a marker of a foreign object (usager, texts, messages, private answer,
file names, people's names and e-mails), no batch may change the database, no request may
answer 5xx.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest
from factories import make_user
from litestar import get, post
from litestar.params import FromPath, FromQuery
from support.access_matrix import (
    SUMMARY,
    Findings,
    UnknownParameter,
    all_handlers,
    cases_for,
    changed_tables,
    fingerprint,
    walk_persona,
)
from support.access_world import build_access_world
from support.fixtures import Client

from app.policies import is_authenticated, policy
from app.tables import Application, User

# The matrix as built today walks about 5,570 cases (82 route handlers, 13 personas, up to 20
# fillings of a route, page/htmx/POST, pages again with the foreign query). Fewer means the
# walk lost routes, personas, objects or the query variant.
MIN_CASES = 5000


async def test_no_persona_reads_or_changes_a_foreign_object(app, client, db):
    world = await build_access_world()
    findings = Findings()
    for persona in world.personas:
        await walk_persona(client, world, persona, cases_for(app, world, persona), findings)

    summary = (
        f"{findings.cases} cases ({len(world.personas)} personas, "
        f"{len(list(all_handlers(app)))} route handlers), {len(findings.found)} findings"
    )
    print(f"\naccess matrix: {summary}")
    SUMMARY.append(summary)
    # The walk is not vacuous: sessions, CSRF tokens and the anonymised view work.
    status = findings.statuses
    assert status[("aidant", "inbox_page", "-", "GET")] == 200
    assert status[("anonyme", "inbox_page", "-", "GET")] == 303
    assert status[("aidant", "inbox_search", "-", "POST")] == 303
    assert status[("aidant", "post_answer", "demande", "POST")] == 404
    assert status[("admin_du_departement", "show_application", "demande", "GET")] == 200
    assert status[("desactive", "show_application", "demande", "GET")] == 303
    assert not findings.found, findings.report()
    assert findings.cases >= MIN_CASES, f"the matrix shrank to {findings.cases} cases"


# --- the walk catches what it is made for -------------------------------------------------


@get("/essai/demandes/{application_id:uuid}", opt=policy(is_authenticated))
async def unprotected_page(application_id: FromPath[UUID]) -> str:
    """A demande by id with only the route rule: the object check forgotten."""
    demande = await Application.objects().get(Application.id == application_id)
    return f"{demande.subject} {demande.usager_last_name}"


@post("/essai/demandes/{application_id:uuid}/sujet", opt=policy(is_authenticated))
async def unprotected_write(application_id: FromPath[UUID]) -> str:
    await Application.update({Application.subject: "Réécrit"}).where(
        Application.id == application_id
    )
    return "ok"


@get("/essai/personne", opt=policy(is_authenticated))
async def unprotected_filter(membre: FromQuery[UUID | None] = None) -> str:
    """A page whose filter takes any account's id: the scope check forgotten on the query."""
    if membre is None:
        return "personne"
    person = await User.objects().get(User.id == membre)
    return f"{person.first_name} {person.last_name}"


@get("/essai/dossiers/{dossier_id:uuid}", opt=policy(is_authenticated))
async def unknown_parameter(dossier_id: FromPath[UUID]) -> str:
    return "ok"


@pytest.fixture
async def leaky_client(db):
    from app.main import create_app

    leaky = create_app(with_pool=False)
    leaky.register(unprotected_page)
    leaky.register(unprotected_write)
    leaky.register(unprotected_filter)
    transport = httpx.ASGITransport(app=leaky)
    async with Client(transport=transport, base_url="http://testserver") as c:
        yield leaky, c


async def test_the_walk_flags_an_unprotected_object_route(leaky_client):
    leaky, client = leaky_client
    world = await build_access_world()
    findings = Findings()
    for persona in ("aidant", "membre_autre_groupe", "expert"):
        cases = [c for c in cases_for(leaky, world, persona) if c.route.startswith("/essai/")]
        await walk_persona(client, world, persona, cases, findings)

    # Per persona: the demande page as GET and htmx GET, each also with the foreign query, its
    # write as POST and htmx POST; the filter page the same four ways as the demande page.
    assert findings.cases == 3 * (6 + 4)
    flagged = {(f.kind, f.case.persona, f.case.handler, f.case.htmx) for f in findings.found}
    for persona in ("aidant", "membre_autre_groupe", "expert"):
        for htmx in (False, True):
            assert ("leak", persona, "unprotected_page", htmx) in flagged
            assert ("change", persona, "unprotected_write", htmx) in flagged
            # Only the query reaches the foreign account.
            assert ("leak", persona, "unprotected_filter", htmx) in flagged
    assert all(
        f.case.objects.endswith("+ query")
        for f in findings.found
        if f.case.handler == "unprotected_filter"
    )
    leak = next(f for f in findings.found if f.kind == "leak")
    assert "Zqxmsujet" in leak.detail and "Zqxmusagernom" in leak.detail
    # The replay named the table and rolled every batch back.
    assert all("application" in f.detail for f in findings.found if f.kind == "change")
    assert (await Application.objects().get(Application.id == world.demande.id)).subject == (
        "Zqxmsujet"
    )


async def test_a_route_with_an_unknown_parameter_fails_the_walk(db):
    from app.main import create_app

    app = create_app(with_pool=False)
    app.register(unknown_parameter)
    world = await build_access_world()
    with pytest.raises(UnknownParameter, match=r"\{dossier_id:uuid\}"):
        cases_for(app, world, "aidant")


STAMP = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


async def test_the_fingerprint_ignores_only_clocks_and_the_personas_own_stamps(db):
    me = await make_user(email="moi@matrice.fr")
    other = await make_user(email="autre@matrice.fr")
    before = await fingerprint(me.id)

    await User.update({User.cgu_accepted_at: STAMP, User.last_seen_at: STAMP}).where(
        User.id == me.id
    )
    await User.update({User.last_seen_at: STAMP}).where(User.id == other.id)
    assert await fingerprint(me.id) == before

    await User.update({User.cgu_accepted_at: STAMP}).where(User.id == other.id)
    assert changed_tables(before, await fingerprint(me.id)) == ["app_user"]
    before = await fingerprint(me.id)
    await User.update({User.is_instructor: True}).where(User.id == me.id)
    assert changed_tables(before, await fingerprint(me.id)) == ["app_user"]
