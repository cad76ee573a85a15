"""What a search costs the database, without changing what it finds (issue 16): a narrow
search reads the full-text index once, for its counts, and its pages and tabs then list the
matches kept with those counts until the viewer's inbox changes; a broad word counts each tab
up to a lower cap ("100+"). docs/decisions/2026-12-02-search-counts.md."""

from __future__ import annotations

import pytest
from factories import make_application, make_group, make_user
from support.queries import QueryCounter

from app.domain import applications, inbox_counts, inbox_search
from app.domain.inbox_counts import ScopeCounts, _store
from app.domain.inbox_search import KeptMatches


@pytest.fixture
async def people(db):
    caf = await make_group("caf", name="CAF de Paris")
    fs = await make_group("france-services", name="France Services 18e")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    return caf, aidant, instructeur


async def search_url(client, terms: str) -> str:
    response = await client.post_form("/demandes/recherche", {"recherche": terms})
    assert response.status_code == 303
    return response.headers["location"]


def full_text(counter: QueryCounter) -> list[str]:
    """The statements that ask the full-text index (not the plan's estimate)."""
    return [s for s in counter.statements if "@@" in s and not s.startswith("EXPLAIN")]


async def listed(client, url: str) -> list[str]:
    _, soup = await client.page(url)
    return [r["id"] for r in soup.select("tbody tr")]


async def test_a_narrow_search_reads_the_index_once_then_lists_what_it_kept(
    client, login, people, monkeypatch
):
    caf, aidant, instructeur = people
    first = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    archived = await make_application(by=aidant, to=[caf], usager=("Marc", "Dupont"))
    await applications.archive(archived.id, aidant, "oui")
    await make_application(by=aidant, to=[caf], usager=("Marc", "Petit"))
    await login(instructeur)

    counter = QueryCounter(monkeypatch)
    url = await search_url(client, "dupont")
    assert await listed(client, url) == [f"demande-{first.id}"]
    assert await listed(client, url.replace("onglet=nouvelles", "onglet=archivees")) == [
        f"demande-{archived.id}"
    ]
    # The submitted search counted (the index, once); the page and the other tab listed the
    # matches kept with the counts.
    assert len(full_text(counter)) == 1

    # A change to the inbox (a new answer naming Dupont): counted and listed afresh.
    other = await make_application(by=aidant, to=[caf], usager=("Marc", "Petit"))
    await applications.post_answer(other.id, aidant, body="Voir aussi Dupont")
    counter.statements.clear()
    assert set(await listed(client, url)) == {f"demande-{first.id}", f"demande-{other.id}"}
    assert len(full_text(counter)) == 1
    # The plan, a matter of table statistics, was kept: no EXPLAIN this time.
    assert not [s for s in counter.statements if s.startswith("EXPLAIN")]


async def test_a_search_with_more_matches_than_kept_still_lists_them_all(
    client, login, people, monkeypatch
):
    caf, aidant, instructeur = people
    apps = [await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont")) for _ in "ab"]
    monkeypatch.setattr(inbox_counts, "MAX_KEPT_MATCHES", 1)
    await login(instructeur)
    counter = QueryCounter(monkeypatch)
    assert set(await listed(client, await search_url(client, "dupont"))) == {
        f"demande-{a.id}" for a in apps
    }
    # Too many to keep: the page asks the index itself.
    assert len(full_text(counter)) == 2


async def test_a_broad_search_counts_each_tab_up_to_its_cap(client, login, people, monkeypatch):
    caf, aidant, instructeur = people
    apps = [await make_application(by=aidant, to=[caf], subject="Attestation") for _ in "abc"]
    await make_application(by=aidant, to=[caf], subject="Autre chose")
    monkeypatch.setattr(inbox_search, "NARROW_SEARCH_ROWS", -1)
    monkeypatch.setattr(inbox_counts, "SEARCH_COUNT_CAP", 2)
    await login(instructeur)
    response, soup = await client.page(await search_url(client, "attestation"))
    badges = [t.select_one(".fr-badge").get_text() for t in soup.select("nav.aplus-tabs a")]
    # None is late: En souffrance is counted on its own, exactly.
    assert badges == ["2+", "0", "0", "0", "0"]
    assert "Nouvelles 2+," in soup.find(id="inbox-summary").get_text()
    # The list itself is complete.
    assert {r["id"] for r in soup.select("tbody tr")} == {f"demande-{a.id}" for a in apps}
    # Without a search, the usual cap.
    _, soup = await client.page("/demandes")
    assert soup.select_one("nav.aplus-tabs a .fr-badge").get_text() == "4"


def test_kept_matches_have_a_memory_budget(monkeypatch):
    monkeypatch.setattr(inbox_counts, "_cache", type(inbox_counts._cache)())
    monkeypatch.setattr(inbox_counts, "_kept_bytes", 0)
    monkeypatch.setattr(inbox_counts, "MAX_KEPT_BYTES", 100)

    def counts(size: int) -> ScopeCounts:
        return ScopeCounts([], [], True, [], None, kept=KeptMatches("x" * size, ""))

    _store(("a",), counts(60))
    _store(("a",), counts(60))  # the same key again: counted once
    assert list(inbox_counts._cache) == [("a",)] and inbox_counts._kept_bytes == 60
    _store(("b",), counts(30))
    _store(("c",), counts(30))  # over budget: the oldest entry goes
    assert list(inbox_counts._cache) == [("b",), ("c",)] and inbox_counts._kept_bytes == 60


@pytest.mark.parametrize("weight", [0, 10**9], ids=["rarest term alone", "every term"])
async def test_a_search_finds_the_same_whichever_terms_the_index_is_asked(
    client, login, people, monkeypatch, weight
):
    caf, aidant, instructeur = people
    both = await make_application(by=aidant, to=[caf], usager=("Élodie", "Dupont"))
    await make_application(by=aidant, to=[caf], usager=("Élodie", "Martin"))
    await make_application(by=aidant, to=[caf], usager=("Marc", "Dupont"))
    # Both words only in a message for instructeurs: found by the instructeur, not the aidant.
    private = await make_application(by=aidant, to=[caf], usager=("Marc", "Petit"))
    await applications.post_answer(
        private.id, instructeur, body="Voir Élodie Dupont", visibility="instructors"
    )
    # RECHECK_WEIGHT 0: asking for the rarest term alone always looks cheaper.
    monkeypatch.setattr(inbox_search, "RECHECK_WEIGHT", weight)
    monkeypatch.setattr(inbox_counts, "MAX_KEPT_MATCHES", 0)  # every page asks the index
    counter = QueryCounter(monkeypatch)
    await login(instructeur)
    url = await search_url(client, "elodie dupont")
    assert set(await listed(client, url)) == {f"demande-{both.id}", f"demande-{private.id}"}
    tested_one_by_one = any("ts_match_vq" in s for s in full_text(counter))
    assert tested_one_by_one is (weight == 0)
    await login(aidant)
    assert set(await listed(client, await search_url(client, "elodie dupont"))) == {
        f"demande-{both.id}"
    }


def test_the_index_is_asked_for_the_rarest_term_when_that_costs_less():
    terms = ["elodie", "dupont"]
    # 34 700 Élodies and 2 600 Duponts in the database; the viewer's scope holds 5 % of it.
    assert inbox_search._index_terms(terms, [34_700, 2_600], 0.05) == ("dupont",)
    # Terms as common as each other, or a scope that holds the whole database: every term.
    assert inbox_search._index_terms(terms, [1_000, 900], 0.05) == ("dupont",)
    assert inbox_search._index_terms(terms, [1_000, 900], 1.0) == ()
