"""The inbox's counts cache and ETag: served while nothing the viewer sees has changed, renewed
at once by a new answer, an invitation, a read or an archive (app/domain/inbox_counts.py,
docs/decisions/2026-12-02-inbox-version.md)."""

from __future__ import annotations

import pytest
from factories import make_application, make_group, make_user
from support.queries import QueryCounter

from app.domain import applications
from app.routes import inbox as inbox_routes
from app.tables import Application, Group, User


@pytest.fixture(autouse=True)
def same_minute(monkeypatch):
    """The ETag holds the current minute (ages, lateness): one minute for the whole test."""
    monkeypatch.setattr(inbox_routes, "_minute", lambda: "202612020300")


@pytest.fixture
async def world(db):
    caf = await make_group("caf", name="CAF de Paris")
    cpam = await make_group("cpam", name="CPAM de Paris")
    fs = await make_group("france-services", name="France Services 18e")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    return caf, cpam, aidant, instructeur


async def inbox(client) -> tuple[list[str], str, str]:
    """Tab badges, the text of the rows and the ETag of the first page."""
    response, soup = await client.page("/demandes")
    assert response.status_code == 200
    badges = [t.select_one(".fr-badge").get_text() for t in soup.select("nav.aplus-tabs a")]
    rows = " | ".join(r.get_text(" ", strip=True) for r in soup.select("tbody tr"))
    return badges, rows, response.headers["etag"]


async def unchanged(client, etag: str) -> bool:
    response = await client.get("/demandes", headers={"If-None-Match": etag})
    if response.status_code == 304:
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "no-store"
        return True
    assert response.status_code == 200
    return False


async def test_counts_are_cached_until_the_inbox_changes(client, login, world, monkeypatch):
    caf, cpam, aidant, instructeur = world
    first = await make_application(by=aidant, to=[caf], subject="RSA suspendu")
    await login(instructeur)
    badges, rows, etag = await inbox(client)
    assert badges == ["1", "0", "0", "0", "0"]
    assert await unchanged(client, etag)

    # A new filter counts (and reads the groups); the same filter again is served from the
    # cache, whatever the tab.
    counter = QueryCounter(monkeypatch)
    await client.get(f"/demandes?groupe={caf.id}")
    cold = counter.count
    counter.count = 0
    await client.get(f"/demandes?groupe={caf.id}&onglet=en-cours")
    assert counter.count == cold - 2

    # A new answer: its message and unread counts, at once.
    await applications.post_answer(first.id, aidant, body="Une pièce de plus")
    badges, new_rows, new_etag = await inbox(client)
    assert new_etag != etag and not await unchanged(client, etag)
    assert new_rows != rows and "1 non lu" in new_rows
    etag = new_etag

    # An invitation: a demande joins the inbox.
    second = await make_application(by=aidant, to=[cpam], subject="Carte Vitale")
    assert await unchanged(client, etag)
    await applications.invite(second.id, aidant, user_ids=[instructeur.id])
    badges, _, new_etag = await inbox(client)
    assert badges == ["2", "0", "0", "0", "0"] and new_etag != etag
    etag = new_etag

    # A read: an answered demande, once opened, moves from Nouvelles to En cours.
    await applications.post_answer(first.id, instructeur, body="Nous regardons")
    badges, _, etag = await inbox(client)
    assert badges == ["2", "0", "0", "0", "0"]
    response = await client.get(f"/demandes/{first.id}")
    assert response.status_code == 200
    badges, _, new_etag = await inbox(client)
    assert badges == ["1", "1", "0", "0", "0"] and new_etag != etag
    etag = new_etag

    # An archive by the aidant.
    await applications.archive(first.id, aidant, "useful")
    badges, _, new_etag = await inbox(client)
    assert badges == ["1", "0", "0", "0", "1"] and new_etag != etag


async def test_etag_follows_the_url_the_user_and_what_they_see(client, login, world):
    caf, cpam, aidant, instructeur = world
    app = await make_application(by=aidant, to=[caf], subject="RSA suspendu")
    await login(instructeur)
    _, _, etag = await inbox(client)
    other_tab = await client.get("/demandes?onglet=archivees")
    assert other_tab.headers["etag"] != etag
    fragment = await client.get("/demandes", headers={"HX-Request": "true"})
    assert fragment.headers["etag"] != etag

    # Shown in the row without being copied to the participation: subject, usager name.
    await Application.update({Application.subject: "RSA rétabli"}).where(Application.id == app.id)
    _, rows, new_etag = await inbox(client)
    assert "RSA rétabli" in rows and new_etag != etag
    etag = new_etag
    # The group filter lists group names.
    await Group.update({Group.name: "CAF de Paris 75"}).where(Group.id == caf.id)
    _, _, new_etag = await inbox(client)
    assert new_etag != etag
    etag = new_etag
    # The user's own account (header, roles).
    await User.update({User.last_name: "Martin"}).where(User.id == instructeur.id)
    assert not await unchanged(client, etag)


async def test_another_users_change_leaves_my_inbox_version(db, world):
    caf, cpam, aidant, instructeur = world
    outsider = await make_user(instructor_in=[cpam])

    async def version(user) -> int:
        rows = await User.select(User.inbox_version).where(User.id == user.id)
        return rows[0]["inbox_version"]

    before = await version(outsider)
    app = await make_application(by=aidant, to=[caf])
    await applications.post_answer(app.id, instructeur, body="Bonjour")
    await applications.mark_seen(app.id, instructeur.id)
    assert await version(outsider) == before
    mine = await version(instructeur)
    await applications.post_answer(app.id, aidant, body="Merci")
    assert await version(instructeur) > mine


async def test_opening_a_demande_already_read_leaves_the_version(db, world):
    caf, cpam, aidant, instructeur = world
    app = await make_application(by=aidant, to=[caf])

    async def version() -> int:
        rows = await User.select(User.inbox_version).where(User.id == instructeur.id)
        return rows[0]["inbox_version"]

    await applications.mark_seen(app.id, instructeur.id)
    read = await version()
    await applications.mark_seen(app.id, instructeur.id)
    assert await version() == read
    await applications.post_answer(app.id, aidant, body="Nouveau message")
    unread = await version()
    assert unread > read
    await applications.mark_seen(app.id, instructeur.id)
    assert await version() > unread
