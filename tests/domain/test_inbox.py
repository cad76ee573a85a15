"""The inbox's tabs, counts, filters, search and pages, on hand-built demandes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import make_application, make_group, make_user

from app import clock
from app.domain import applications, inbox, inbox_search, sessions
from app.tables import Application, Participation, User

PARIS = ZoneInfo("Europe/Paris")


async def viewer_of(user):
    row = await User.select().where(User.id == user.id).first()
    return await sessions.build_viewer(row)


def set_now(moment: datetime) -> None:
    clock.reset()
    clock.travel((moment - clock.now()).total_seconds())


async def ids_in(user, tab: str, **kw) -> list:
    page = await inbox.load_page(await viewer_of(user), tab_key=tab, **kw)
    return [r.id for r in page.rows]


async def tab_keys_of(user, application_id) -> set[str]:
    viewer = await viewer_of(user)
    keys = set()
    for tab in inbox.tabs_for(viewer):
        if application_id in await ids_in(user, tab.key):
            keys.add(tab.key)
    return keys


@pytest.fixture
async def people(db):
    caf = await make_group("caf")
    fs = await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    colleague = await make_user(instructor_in=[caf])
    return caf, fs, aidant, instructeur, colleague


async def test_a_demande_walks_through_the_tabs(people):
    caf, fs, aidant, instructeur, colleague = people
    app = await make_application(by=aidant, to=[caf], from_group=fs)
    # Never answered: new for everyone; the creator's own demande counts as opened.
    assert await tab_keys_of(aidant, app.id) == {"nouvelles"}
    assert await tab_keys_of(instructeur, app.id) == {"nouvelles"}
    # Opened but still unanswered: stays in Nouvelles (no answer yet).
    await applications.mark_seen(app.id, instructeur.id)
    assert await tab_keys_of(instructeur, app.id) == {"nouvelles"}
    await applications.post_answer(app.id, instructeur, body="Je regarde.")
    assert await tab_keys_of(instructeur, app.id) == {"en-cours"}
    # Answered by a colleague but never opened by me: still new to me.
    assert await tab_keys_of(colleague, app.id) == {"nouvelles"}
    assert await tab_keys_of(aidant, app.id) == {"en-cours"}
    await applications.post_answer(app.id, instructeur, body="Fait.", marks_processed=True)
    assert await tab_keys_of(instructeur, app.id) == {"traitees"}
    assert await tab_keys_of(colleague, app.id) == {"traitees"}
    # Aidants have no Traitées tab: "À archiver" waits in En cours.
    assert await tab_keys_of(aidant, app.id) == {"en-cours"}
    await applications.archive(app.id, aidant, "oui")
    assert await tab_keys_of(instructeur, app.id) == {"archivees"}
    assert await tab_keys_of(aidant, app.id) == {"archivees"}


async def test_tabs_depend_on_the_role(people):
    caf, fs, aidant, instructeur, colleague = people
    assert [t.key for t in inbox.tabs_for(await viewer_of(aidant))] == [
        "nouvelles",
        "en-cours",
        "archivees",
    ]
    assert [t.key for t in inbox.tabs_for(await viewer_of(instructeur))] == [
        "nouvelles",
        "en-cours",
        "en-souffrance",
        "traitees",
        "archivees",
    ]


@pytest.mark.parametrize(
    ("created", "late_at", "label"),
    [
        # Thursday 10:00 -> Friday, Monday, Tuesday: late after Tuesday 10:00 (weekend skipped).
        (
            datetime(2026, 11, 19, 10, tzinfo=PARIS),
            datetime(2026, 11, 24, 10, tzinfo=PARIS),
            "weekend",
        ),
        # Thursday 7 May 2026, Friday 8 May is a holiday: late after Wednesday 13 May 10:00.
        (datetime(2026, 5, 7, 10, tzinfo=PARIS), datetime(2026, 5, 13, 10, tzinfo=PARIS), "8 mai"),
    ],
)
async def test_en_souffrance_at_72_business_hours(people, created, late_at, label):
    caf, fs, aidant, instructeur, colleague = people
    set_now(created)
    app = await make_application(by=aidant, to=[caf], created_at=created)
    await applications.mark_seen(app.id, instructeur.id)

    set_now(late_at - timedelta(hours=1))
    page = await inbox.load_page(await viewer_of(instructeur), tab_key="nouvelles")
    row = next(r for r in page.rows if r.id == app.id)
    assert (row.late, row.soon_late) == (False, True), label
    assert app.id not in await ids_in(instructeur, "en-souffrance")

    set_now(late_at + timedelta(hours=1))
    page = await inbox.load_page(await viewer_of(instructeur), tab_key="en-souffrance")
    row = next(r for r in page.rows if r.id == app.id)
    assert (row.late, row.soon_late) == (True, False), label
    # Late and still unanswered: both Nouvelles and En souffrance.
    assert await tab_keys_of(instructeur, app.id) == {"nouvelles", "en-souffrance"}
    # More than a day before: no warning.
    set_now(late_at - timedelta(hours=25))
    page = await inbox.load_page(await viewer_of(instructeur), tab_key="nouvelles")
    row = next(r for r in page.rows if r.id == app.id)
    assert (row.late, row.soon_late) == (False, False)


async def test_last_answer_older_than_15_business_days_is_late(people):
    caf, fs, aidant, instructeur, colleague = people
    created = datetime(2026, 11, 2, 9, tzinfo=PARIS)
    set_now(created)
    app = await make_application(by=aidant, to=[caf], created_at=created)
    answered = created + timedelta(hours=2)
    set_now(answered)
    await applications.post_answer(app.id, instructeur, body="Je m'en occupe.")
    await applications.mark_seen(app.id, instructeur.id)
    # Three weeks of business days (11 November is a holiday): 24 November 11:00.
    set_now(datetime(2026, 11, 24, 10, tzinfo=PARIS))
    assert await tab_keys_of(instructeur, app.id) == {"en-cours"}
    set_now(datetime(2026, 11, 24, 12, tzinfo=PARIS))
    assert await tab_keys_of(instructeur, app.id) == {"en-cours", "en-souffrance"}
    # Processed demandes are never late.
    await applications.post_answer(app.id, instructeur, body="Fait.", marks_processed=True)
    assert await tab_keys_of(instructeur, app.id) == {"traitees"}


async def test_counts_equal_list_lengths(people):
    caf, fs, aidant, instructeur, colleague = people
    set_now(datetime(2026, 11, 2, 9, tzinfo=PARIS))
    apps = [await make_application(by=aidant, to=[caf]) for _ in range(7)]
    await applications.post_answer(apps[0].id, instructeur, body="Vu")
    await applications.post_answer(apps[1].id, instructeur, body="Vu", marks_processed=True)
    await applications.post_answer(apps[2].id, colleague, body="Vu")
    await applications.archive(apps[3].id, aidant, "non")
    await applications.mark_seen(apps[4].id, instructeur.id)
    await applications.mark_seen(apps[0].id, instructeur.id)
    set_now(datetime(2026, 11, 20, 9, tzinfo=PARIS))
    for user in (aidant, instructeur, colleague):
        viewer = await viewer_of(user)
        page = await inbox.load_page(viewer)
        counts = dict((t.key, n) for t, n in page.tabs)
        for tab in inbox.tabs_for(viewer):
            assert counts[tab.key] == len(await ids_in(user, tab.key)), (user.email, tab.key)
    counts = {t.key: n for t, n in (await inbox.load_page(await viewer_of(instructeur))).tabs}
    assert counts == {
        "nouvelles": 4,
        "en-cours": 1,
        "en-souffrance": 3,
        "traitees": 1,
        "archivees": 1,
    }


async def test_group_filter_and_per_group_counts(db):
    caf, cpam = await make_group("caf"), await make_group("cpam")
    fs = await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    both = await make_user(instructor_in=[caf, cpam])
    to_caf = await make_application(by=aidant, to=[caf])
    to_cpam = await make_application(by=aidant, to=[cpam])
    to_both = await make_application(by=aidant, to=[caf, cpam])
    viewer = await viewer_of(both)
    page = await inbox.load_page(viewer)
    assert {g.id: g.count for g in page.groups} == {caf.id: 2, cpam.id: 2}
    assert set(await ids_in(both, "nouvelles", group_ids=[cpam.id])) == {to_cpam.id, to_both.id}
    filtered = await inbox.load_page(viewer, group_ids=[caf.id])
    assert {r.id for r in filtered.rows} == {to_caf.id, to_both.id}
    assert filtered.count == 2
    # A group invited later joins the filter.
    await applications.add_groups(to_caf.id, [cpam.id], invited_by=aidant.id)
    assert to_caf.id in await ids_in(both, "nouvelles", group_ids=[cpam.id])
    # Groups the viewer is not in are ignored rather than trusted.
    other = await make_group("msa")
    assert len(await ids_in(both, "nouvelles", group_ids=[other.id])) == 3


async def test_keyset_pages_forwards_and_back(people):
    caf, fs, aidant, instructeur, colleague = people
    start = datetime(2026, 11, 2, 9, tzinfo=PARIS)
    for i in range(inbox.PAGE_SIZE + 5):
        await make_application(by=aidant, to=[caf], created_at=start + timedelta(minutes=i))
    viewer = await viewer_of(instructeur)
    first = await inbox.load_page(viewer)
    assert len(first.rows) == inbox.PAGE_SIZE and first.previous_cursor is None
    second = await inbox.load_page(viewer, after=first.next_cursor)
    assert len(second.rows) == 5 and second.next_cursor is None
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    back = await inbox.load_page(viewer, before=second.previous_cursor)
    assert [r.id for r in back.rows] == [r.id for r in first.rows]
    assert back.previous_cursor is None and back.next_cursor is not None
    cursor = inbox.Cursor.decode(first.next_cursor.encode())
    assert cursor == first.next_cursor
    assert inbox.Cursor.decode("n'importe quoi") is None


async def test_message_count_and_unread_badge_hide_private_messages(people):
    caf, fs, aidant, instructeur, colleague = people
    app = await make_application(by=aidant, to=[caf])
    await applications.mark_seen(app.id, instructeur.id)
    clock.travel(60)
    await applications.post_answer(app.id, instructeur, body="Public")
    await applications.post_answer(app.id, instructeur, body="Entre nous", visibility="instructors")
    await applications.post_answer(app.id, colleague, body="Entre nous 2", visibility="instructors")

    def row(page):
        return next(r for r in page.rows if r.id == app.id)

    aidant_row = row(await inbox.load_page(await viewer_of(aidant), tab_key="en-cours"))
    assert (aidant_row.messages, aidant_row.unread) == (1, 1)
    mine = row(await inbox.load_page(await viewer_of(instructeur), tab_key="en-cours"))
    # My own messages are never unread for me.
    assert (mine.messages, mine.unread) == (3, 1)
    theirs = row(await inbox.load_page(await viewer_of(colleague), tab_key="nouvelles"))
    assert theirs.never_opened and theirs.unread == 2
    clock.travel(60)
    await applications.mark_seen(app.id, aidant.id)
    aidant_row = row(await inbox.load_page(await viewer_of(aidant), tab_key="en-cours"))
    assert aidant_row.unread == 0 and not aidant_row.never_opened


@pytest.fixture(params=["narrow, few", "narrow, many", "broad"])
def search_strategy(request, monkeypatch):
    """Every plan: GIN first, its matches looked up one by one (few) or left to the planner
    (many); and scope first."""
    monkeypatch.setattr(
        inbox_search, "NARROW_SEARCH_ROWS", -1 if request.param == "broad" else 10**9
    )
    monkeypatch.setattr(inbox_search, "FEW_MATCHES", 10**9 if request.param.endswith("few") else -1)
    return request.param


async def test_search_is_accent_insensitive_and_covers_the_demande(db, search_strategy):
    caf = await make_group("caf")
    fs = await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    expert = await make_user(expert=True, first_name="Gaëlle", last_name="Leroy")
    elodie = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    other = await make_application(
        by=aidant, to=[caf], usager=("Marc", "Lefèvre"), subject="Carte Vitale perdue"
    )
    await Application.update(
        {Application.usager_fields: [{"code": "nir", "value": "1 85 03 75 123 456"}]}
    ).where(Application.id == other.id)
    await applications.post_answer(other.id, instructeur, body="Le dossier est bloqué à Évry.")
    await applications.add_users(other.id, [expert.id], invited_by=instructeur.id)

    async def found(user, query):
        page = await inbox.load_page(await viewer_of(user), tab_key="nouvelles", query=query)
        page2 = await inbox.load_page(await viewer_of(user), tab_key="en-cours", query=query)
        return {r.id for r in page.rows} | {r.id for r in page2.rows}

    assert await found(aidant, "elodie") == {elodie.id}
    assert await found(aidant, "ÉLODIE dupon") == {elodie.id}
    assert await found(instructeur, "lefevre") == {other.id}
    assert await found(aidant, "carte vitale") == {other.id}
    assert await found(aidant, "evry") == {other.id}
    assert await found(aidant, "bloque") == {other.id}
    assert await found(aidant, "185037512345") == {other.id}
    # Participants' names.
    assert await found(aidant, "gaelle") == {other.id}
    assert await found(aidant, "situation") == {elodie.id, other.id}
    assert await found(aidant, "nobody") == set()
    assert await found(aidant, "") == {elodie.id, other.id}
    page = await inbox.load_page(await viewer_of(aidant), query="elodie")
    assert dict((t.key, n) for t, n in page.tabs)["nouvelles"] == 1


async def test_search_stays_inside_the_scope(db, search_strategy):
    caf = await make_group("caf")
    fs = await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    stranger_aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    outsider = await make_user(instructor_in=[await make_group("cpam")])
    mine = await make_application(by=aidant, to=[caf], usager=("Élodie", "Martin"))
    theirs = await make_application(by=stranger_aidant, to=[caf], usager=("Élodie", "Martin"))
    # Same group as the creator does not open a colleague's demande.
    assert await ids_in(aidant, "nouvelles", query="elodie") == [mine.id]
    assert set(await ids_in(instructeur, "nouvelles", query="elodie")) == {mine.id, theirs.id}
    assert await ids_in(outsider, "nouvelles", query="elodie") == []


async def test_private_messages_are_searchable_only_by_instructors(people, search_strategy):
    caf, fs, aidant, instructeur, colleague = people
    app = await make_application(by=aidant, to=[caf])
    await applications.post_answer(
        app.id, instructeur, body="Signalement interne zanzibar", visibility="instructors"
    )
    assert await ids_in(colleague, "nouvelles", query="zanzibar") == [app.id]
    assert await ids_in(aidant, "en-cours", query="zanzibar") == []
    assert await ids_in(aidant, "nouvelles", query="zanzibar") == []
    page = await inbox.load_page(await viewer_of(aidant), query="zanzibar")
    assert all(n == 0 for _, n in page.tabs)


async def test_participation_copies_follow_the_demande(people):
    caf, fs, aidant, instructeur, colleague = people
    app = await make_application(by=aidant, to=[caf], from_group=fs)
    await applications.post_answer(app.id, instructeur, body="ok", marks_processed=True)
    rows = await Participation.select(
        Participation.app_status, Participation.app_updated_at, Participation.app_groups
    ).where(Participation.application == app.id)
    fresh = await Application.select(Application.updated_at).where(Application.id == app.id)
    assert len(rows) == 3
    assert {r["app_status"] for r in rows} == {"processed"}
    assert {r["app_updated_at"] for r in rows} == {fresh[0]["updated_at"]}
    assert all(set(r["app_groups"]) == {caf.id, fs.id} for r in rows)


def test_fold_and_terms():
    assert inbox.fold("Élodie Œuvre ÇA") == "elodie oeuvre ca"
    assert inbox.search_terms("  L'Élodie, n° 12 ") == ["elodie", "12"]
    assert inbox.tsquery(["elodie", "12"]) == "elodie:* & 12:*"


def test_numbers_typed_in_groups_make_one_term():
    # A NIR's one-digit first group is kept inside its run; a lone digit is still dropped.
    assert inbox.search_terms("1 85 03 Dupont 7 rue") == ["1 85 03", "dupont", "rue"]
    assert inbox.search_terms("2 85 2A 123") == ["2 85 2a 123"]
    assert inbox.tsquery(["1 85 03"]) == "(18503:* | 85:* & 03:*)"
    assert inbox.tsquery(["0612345678"]) == "(0612345678:* | 06 <-> 12 <-> 34 <-> 56 <-> 78)"
