"""Issue 9, item 5: what the inbox finds and counts is what the thread shows, persona by persona.

Each persona opens the real app over HTTP: the inbox (every tab), a search for a word that
appears only in a "réservé aux instructeurs" message, and the demande page. Whatever the
thread shows them (the private message, the public one, nothing at all), the search result,
the tab counts and the row's "N messages, M non lus" must say the same — through both search
plans (GIN first and scope first).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from factories import make_application, make_group, make_user

from app import clock
from app.domain import applications, inbox_search
from app.tables import User

SECRET = "zanzibar"


@dataclass
class Seen:
    """What one persona is shown, by the inbox and by the thread."""

    row: tuple[int, int] | None  # (messages, unread) of the demande's row, in any tab
    tab_total: int  # sum of the tab counts without search
    found: bool  # the demande is a result of the search for SECRET
    found_total: int  # sum of the tab counts of that search
    thread_status: int
    thread_messages: int  # the demande's messages the thread shows
    thread_has_secret: bool


@pytest.fixture(params=["narrow, few", "narrow, many", "broad"])
def search_strategy(request, monkeypatch):
    """Every plan: GIN first, its matches looked up one by one (few) or left to the planner
    (many); and scope first."""
    monkeypatch.setattr(
        inbox_search, "NARROW_SEARCH_ROWS", -1 if request.param == "broad" else 10**9
    )
    monkeypatch.setattr(inbox_search, "FEW_MATCHES", 10**9 if request.param.endswith("few") else -1)
    return request.param


async def search_url(client, terms: str, tab: str) -> str:
    response = await client.post_form("/demandes/recherche", {"recherche": terms, "onglet": tab})
    assert response.status_code == 303
    return response.headers["location"]


def nonzero_tabs(soup: BeautifulSoup) -> list[tuple[str, int]]:
    """(link, count) of the tabs whose count is not 0; links keep the (sealed) search."""
    tabs = [
        (a["href"], int(a.select_one(".fr-badge").get_text().rstrip("+")))
        for a in soup.select("nav.aplus-tabs a")
    ]
    return [(href, n) for href, n in tabs if n]


def row_counts(soup: BeautifulSoup, app_id) -> tuple[int, int] | None:
    row = soup.find(id=f"demande-{app_id}")
    if row is None:
        return None
    cell = row.find_all("td")[-1]
    badge = cell.select_one(".fr-badge")
    unread = int(badge.get_text().split()[0]) if badge else 0
    return int(cell.contents[0].strip()), unread


async def rows_and_total(client, url: str, app_id) -> tuple[tuple[int, int] | None, int]:
    """The demande's row, looked for in every tab that counts something, and the tabs' total."""
    _, soup = await client.page(url)
    counted = nonzero_tabs(soup)
    row = None
    for href, _ in counted:
        _, tab = await client.page(href)
        row = row or row_counts(tab, app_id)
    return row, sum(n for _, n in counted)


async def what_is_seen(client, login, user: User, app_id, message_ids) -> Seen:
    await login(user)
    row, total = await rows_and_total(client, "/demandes", app_id)
    found_row, found_total = await rows_and_total(
        client, await search_url(client, SECRET, "nouvelles"), app_id
    )
    # The thread last: opening it marks the demande seen.
    response, soup = await client.page(f"/demandes/{app_id}")
    thread = soup.find(id="fil")
    shown = {li["id"] for li in thread.select("li.aplus-entry")} if thread else set()
    return Seen(
        row=row,
        tab_total=total,
        found=found_row is not None,
        found_total=found_total,
        thread_status=response.status_code,
        thread_messages=len(shown & {f"message-{i}" for i in message_ids}),
        thread_has_secret=SECRET in response.text,
    )


@dataclass
class Demande:
    app_id: object
    message_ids: list
    people: dict[str, User]


async def make_world(*, archived: bool) -> tuple[Demande, Demande]:
    """Two demandes with one public and one private message each, and a user per persona
    kind: the aidant+instructeur's own demande (where the leak was) and a plain aidant's one
    that every other persona looks at."""
    fs = await make_group("france-services", name="France Services 18e")
    caf = await make_group("caf", name="CAF de Paris")
    cpam = await make_group("cpam", name="CPAM de Paris")
    msa = await make_group("msa", name="MSA Île-de-France")
    # Multi-role: aidant of a France Services, instructeur of another group.
    multi = await make_user(helper_in=[fs], instructor_in=[cpam])
    people = {
        "creator aidant": await make_user(helper_in=[fs]),
        "invited aidant": await make_user(helper_in=[fs]),
        "invited instructeur": await make_user(instructor_in=[caf]),
        "invited expert": await make_user(expert=True),
        "admin of the département": await make_user(admin=True, admin_areas=["75"]),
    }
    caf_author = await make_user(instructor_in=[caf])
    msa_author = await make_user(instructor_in=[msa])

    async def demande(creator: User, group, author: User, colleagues=()) -> Demande:
        app = await make_application(by=creator, to=[group], from_group=fs, colleagues=colleagues)
        clock.travel(60)
        public = await applications.post_answer(app.id, author, body="Pièce reçue, merci.")
        private = await applications.post_answer(
            app.id, author, body=f"Dossier signalé {SECRET}", visibility="instructors"
        )
        return Demande(app.id, [public.id, private.id], {})

    main = await demande(
        people["creator aidant"], caf, caf_author, colleagues=[people["invited aidant"]]
    )
    await applications.add_users(main.app_id, [people["invited expert"].id], invited_by=None)
    own = await demande(multi, msa, msa_author)
    if archived:
        await applications.archive(main.app_id, people["creator aidant"], "oui")
        await applications.archive(own.app_id, multi, "oui")
    # Joined the group after the demande: never invited on it.
    people["instructeur of the group, not invited"] = await make_user(instructor_in=[caf])
    main.people = people
    own.people = {"creator aidant+instructeur": multi}
    return main, own


# persona -> (thread status, messages the thread shows, private message shown), open demande.
EXPECTED_OPEN = {
    "creator aidant": (200, 1, False),
    "creator aidant+instructeur": (200, 1, False),
    "invited aidant": (200, 1, False),
    "invited instructeur": (200, 2, True),
    "invited expert": (200, 2, True),
    "admin of the département": (200, 0, False),
    "instructeur of the group, not invited": (404, 0, False),
}
# Archived: experts lose the demande altogether (spec §3).
EXPECTED_ARCHIVED = {**EXPECTED_OPEN, "invited expert": (404, 0, False)}
PERSONAS = list(EXPECTED_OPEN)


@pytest.mark.parametrize("archived", [False, True], ids=["open", "archived"])
@pytest.mark.parametrize("persona", PERSONAS)
async def test_search_and_counts_show_what_the_thread_shows(
    client, login, search_strategy, persona, archived
):
    main, own = await make_world(archived=archived)
    demande = own if persona == "creator aidant+instructeur" else main
    seen = await what_is_seen(
        client, login, demande.people[persona], demande.app_id, demande.message_ids
    )
    expected = (EXPECTED_ARCHIVED if archived else EXPECTED_OPEN)[persona]
    status, messages, reads_private = expected
    # What the thread shows (the rule of app/policies.py)...
    assert seen.thread_status == status
    assert seen.thread_has_secret is reads_private
    if persona == "admin of the département":
        # Anonymised: entries (private ones too) reduced to their length, no word of them.
        assert status == 200 and seen.thread_messages == 2
    else:
        assert seen.thread_messages == messages
    # ...is what the search finds and the tabs count,
    assert seen.found is reads_private
    assert seen.found_total == (1 if reads_private else 0)
    # and what the row counts: nothing unread was opened before, so every message shown is new.
    if messages:
        assert seen.row == (messages, messages)
        assert seen.tab_total == 1
    else:
        # No participation (admin, not invited) or no longer readable (expert, archived).
        assert seen.row is None and seen.tab_total == 0


async def test_granting_the_instructeur_role_opens_private_answers_everywhere_at_once(
    client, login
):
    """The flag on participations follows a role change, as the thread does at once."""
    main, _ = await make_world(archived=False)
    aidant = main.people["invited aidant"]
    before = await what_is_seen(client, login, aidant, main.app_id, main.message_ids)
    assert not before.thread_has_secret and not before.found and before.row[0] == 1
    await User.update({User.is_instructor: True}).where(User.id == aidant.id)
    after = await what_is_seen(client, login, aidant, main.app_id, main.message_ids)
    assert after.thread_has_secret and after.found and after.row[0] == 2
    await User.update({User.is_instructor: False}).where(User.id == aidant.id)
    again = await what_is_seen(client, login, aidant, main.app_id, main.message_ids)
    assert not again.thread_has_secret and not again.found and again.row[0] == 1


async def test_reopening_gives_the_expert_the_demande_back(client, login):
    main, _ = await make_world(archived=True)
    expert = main.people["invited expert"]
    assert (await what_is_seen(client, login, expert, main.app_id, main.message_ids)).row is None
    await applications.reopen(main.app_id, main.people["creator aidant"])
    seen = await what_is_seen(client, login, expert, main.app_id, main.message_ids)
    assert seen.thread_status == 200 and seen.thread_has_secret and seen.found
    assert seen.row is not None and seen.row[0] == 2
