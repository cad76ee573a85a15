"""Statistics on hand-built demandes whose answers are worked out by hand: business-day delays
across a weekend and public holidays (Armistice, Good Friday in Moselle, Abolition day in
Guadeloupe), the share resolved in under 7 days, nearest-rank p75, usefulness; the cells
(aggregate) and the per-demande facts give the same figures for every kind of selection."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import make_application, make_group, make_user
from hypothesis import given, settings
from hypothesis import strategies as st

from app import clock
from app.domain import applications, statistics
from app.domain.statistics import Filters
from app.domain.statistics_queries import Histogram
from app.policies import StatisticsTerm
from app.tables import Application

PARIS = ZoneInfo("Europe/Paris")
GUADELOUPE = ZoneInfo("America/Guadeloupe")
RANGE = Filters(first_month=date(2025, 4, 1), last_month=date(2025, 11, 1))


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


async def answer(app, who, at, **kw):
    await applications.post_answer(app.id, who, body="Réponse", created_at=at, **kw)


async def archive(app, creator, at, usefulness):
    await Application.update({Application.usefulness: usefulness}).where(Application.id == app.id)
    await applications.post_answer(app.id, creator, kind="archive", created_at=at)


@pytest.fixture
async def world(db):
    caf75 = await make_group("caf", ["75"], name="CAF de Paris")
    caf57 = await make_group("caf", ["57"], name="CAF de Moselle")
    caf971 = await make_group("caf", ["971"], name="CAF de Guadeloupe")
    cpam75 = await make_group("cpam", ["75"], name="CPAM de Paris")
    fs75 = await make_group("france-services", ["75"], name="FS Paris", network="France Services")
    fs57 = await make_group("france-services", ["57"], name="FS Metz", network="France Services")
    fs971 = await make_group("france-services", ["971"], name="FS Pointe-à-Pitre")
    aidant = await make_user(helper_in=[fs75, fs57, fs971])
    instr = await make_user(instructor_in=[caf75, caf57, caf971, cpam75])

    # D1, Paris: Friday 10:00; answered Wednesday 10:00 across the weekend and Armistice
    # (Tuesday 11 November): 14 + 24 + 0 + 10 = 48 business hours = 2.0 days.
    # "Traitée" Thursday 12:00: 74 h = 3.08 days → 31 tenths, 6 calendar days: under 7 days.
    d1 = await make_application(
        by=aidant, to=[caf75, cpam75], from_group=fs75, created_at=paris(2025, 11, 7, 10)
    )
    await answer(d1, instr, paris(2025, 11, 12, 10))
    await answer(d1, instr, paris(2025, 11, 13, 12), marks_processed=True)
    await archive(d1, aidant, paris(2025, 11, 14, 9), "oui")

    # D2, Moselle: Thursday 17 April 12:00; Good Friday (local) and Easter Monday are off:
    # answered Tuesday 12:00 = 12 + 12 = 1.0 day. Archived "Oui" on Monday 28 April 12:00
    # without "traitée": resolved then, 11 days later (not under 7), 5.0 business days.
    d2 = await make_application(
        by=aidant, to=[caf57], from_group=fs57, area="57", created_at=paris(2025, 4, 17, 12)
    )
    await answer(d2, instr, paris(2025, 4, 22, 12))
    await archive(d2, aidant, paris(2025, 4, 28, 12), "oui")

    # D3, Guadeloupe (local time): Monday 26 May 09:00; 27 May (abolition) is off there:
    # answered Wednesday 09:00 = 15 + 9 = 1.0 day; "traitée" Friday 30 May 09:00 across
    # Ascension (Thursday 29): 15 + 24 + 9 = 2.0 days.
    d3 = await make_application(
        by=aidant,
        to=[caf971],
        from_group=fs971,
        area="971",
        created_at=datetime(2025, 5, 26, 9, tzinfo=GUADELOUPE),
    )
    await answer(d3, instr, datetime(2025, 5, 28, 9, tzinfo=GUADELOUPE))
    await answer(d3, instr, datetime(2025, 5, 30, 9, tzinfo=GUADELOUPE), marks_processed=True)

    # D4, Paris: Monday 2 June 10:00, first answer Thursday 15:00 (77 h = 3.2 days: later
    # than 3 business days), archived "Non" without being resolved.
    d4 = await make_application(
        by=aidant, to=[caf75], from_group=fs75, created_at=paris(2025, 6, 2, 10)
    )
    await answer(d4, instr, paris(2025, 6, 5, 15))
    await archive(d4, aidant, paris(2025, 6, 20, 10), "non")

    # D5, "procédure standard": in the volumes and its own share, nowhere else.
    d5 = await make_application(
        by=aidant, to=[caf75], from_group=fs75, created_at=paris(2025, 6, 3, 10)
    )
    await answer(d5, instr, paris(2025, 6, 3, 11), marks_processed=True, marks_irrelevant=True)

    # D6, Paris: answered after 4 hours (0.17 day → 2 tenths), archived "Je ne sais pas".
    d6 = await make_application(
        by=aidant, to=[cpam75], from_group=fs75, created_at=paris(2025, 9, 2, 10)
    )
    await answer(d6, instr, paris(2025, 9, 2, 14))
    await archive(d6, aidant, paris(2025, 9, 4, 10), "ne_sait_pas")

    # D7: open, never answered, created 10 days ago: late right now (outside the months).
    await make_application(
        by=aidant, to=[caf75], from_group=fs75, created_at=clock.now() - timedelta(days=10)
    )
    groups = [caf75, caf57, caf971, cpam75, fs75, fs57, fs971]
    return {g.name: g for g in groups}, {g.id: g.organisation for g in groups}


async def test_national_figures_match_the_hand_computed_answers(world):
    _, orgs = world
    report = await statistics.refresh(full=True)
    assert report.demandes == 7
    fig = await statistics.figures(statistics_national(), RANGE, group_orgs=orgs, every_area=True)
    assert fig.source == "cells"
    t = fig.totals
    assert t.demandes == 6 and t.irrelevant == 1
    assert (t.under_7_yes, t.under_7_no) == (2, 3)
    assert t.under_7_share == pytest.approx(0.4)
    assert (t.in_charge_yes, t.in_charge_no) == (4, 1)
    # First answers in tenths: 2, 10, 10, 20, 32 → median (3rd) 1.0, p75 (4th) 2.0.
    assert sorted(t.first_answer.elements()) == [2, 10, 10, 20, 32]
    assert t.delay("first_answer", 0.5) == 1.0
    assert t.delay("first_answer", 0.75) == 2.0
    # Resolutions: 2.0 (D3), 3.1 (D1), 5.0 (D2) → median 3.1, p75 5.0.
    assert sorted(t.resolution.elements()) == [20, 31, 50]
    assert t.delay("resolution", 0.5) == 3.1
    assert t.delay("resolution", 0.75) == 5.0
    assert (t.useful_oui, t.useful_ne_sait_pas, t.useful_non) == (2, 1, 1)
    assert t.useful_share("oui") == 0.5
    assert fig.late_now == 1
    per_month = {m: x.demandes for m, x in fig.months}
    assert len(fig.months) == 8
    assert per_month == {
        date(2025, 4, 1): 1,
        date(2025, 5, 1): 1,
        date(2025, 6, 1): 2,
        date(2025, 7, 1): 0,
        date(2025, 8, 1): 0,
        date(2025, 9, 1): 1,
        date(2025, 10, 1): 0,
        date(2025, 11, 1): 1,
    }
    rows = {r.labels: r.totals.demandes for r in fig.by_organisation}
    assert rows == {
        ("caf", "57"): 1,
        ("caf", "75"): 3,
        ("caf", "971"): 1,
        ("cpam", "75"): 2,
        ("france-services", "57"): 1,
        ("france-services", "75"): 4,
        ("france-services", "971"): 1,
    }
    # On the page, over all départements: one line per organisation.
    summed = await statistics.figures(statistics_national(), RANGE, group_orgs=orgs)
    assert {r.labels: r.totals.demandes for r in summed.by_organisation} == {
        ("caf", "*"): 5,
        ("cpam", "*"): 2,
        ("france-services", "*"): 6,
    }


def statistics_national():
    return (StatisticsTerm(),)


def _summary(fig, table=True):
    t = fig.totals
    rows = sorted(
        (
            r.labels,
            r.totals.demandes,
            r.totals.under_7_yes,
            sorted(r.totals.first_answer.elements()),
            sorted(r.totals.resolution.elements()),
        )
        for r in fig.by_organisation
    )
    return (
        t.demandes,
        t.irrelevant,
        t.under_7_yes,
        t.under_7_no,
        t.in_charge_yes,
        t.in_charge_no,
        (t.useful_oui, t.useful_ne_sait_pas, t.useful_non),
        sorted(t.first_answer.elements()),
        sorted(t.resolution.elements()),
        [(m, x.demandes, x.under_7_yes) for m, x in fig.months],
        rows if table else None,
        fig.late_now,
    )


async def test_the_aggregate_and_the_facts_agree_for_every_kind_of_selection(world):
    groups, orgs = world
    await statistics.refresh(full=True)
    caf75, fs75, fs57 = (groups[n].id for n in ("CAF de Paris", "FS Paris", "FS Metz"))
    paris_only = frozenset({"75"})

    def within(**kw):
        return Filters(RANGE.first_month, RANGE.last_month, **kw)

    national = (StatisticsTerm(),)
    selections = [
        # One dimension value over départements: its cells.
        (national, RANGE, "cells"),
        ((StatisticsTerm(areas=frozenset({"75", "57"})),), RANGE, "cells"),
        ((StatisticsTerm(organisation="caf"),), RANGE, "cells"),
        ((StatisticsTerm(areas=paris_only, organisation="cpam"),), RANGE, "cells"),
        ((StatisticsTerm(group=caf75),), RANGE, "cells"),
        (national, within(network="France Services"), "cells"),
        (national, within(area="971"), "cells"),
        # Several organisations, organisation × network: the combinations.
        (
            (
                StatisticsTerm(areas=paris_only, organisation="caf"),
                StatisticsTerm(areas=paris_only, organisation="cpam"),
            ),
            RANGE,
            "combos",
        ),
        (
            (StatisticsTerm(organisation="caf"), StatisticsTerm(organisation="cpam")),
            RANGE,
            "combos",
        ),
        (national, within(organisation="caf", network="France Services"), "combos"),
        (national, within(organisation="cpam", area="75"), "cells"),
        # Groups: their facts, minus what the rest of the scope already counts.
        ((StatisticsTerm(group=fs75), StatisticsTerm(group=fs57)), RANGE, "facts"),
        # One group narrowed by an organisation or a network: its own combinations.
        ((StatisticsTerm(group=fs75),), within(organisation="cpam"), "combos"),
        ((StatisticsTerm(group=caf75),), within(network="France Services"), "combos"),
        ((StatisticsTerm(group=caf75),), within(area="75", organisation="cpam"), "combos"),
        (
            (StatisticsTerm(organisation="cpam"), StatisticsTerm(group=caf75)),
            RANGE,
            "combos+facts",
        ),
        (
            (
                StatisticsTerm(areas=frozenset({"57"}), organisation="caf"),
                StatisticsTerm(group=fs75),
            ),
            RANGE,
            "combos+facts",
        ),
    ]
    for scope, filters, source in selections:
        aggregate = await statistics.figures(scope, filters, group_orgs=orgs, every_area=True)
        facts = await statistics.figures(scope, filters, group_orgs=orgs, force_facts=True)
        assert (aggregate.source, facts.source) == (source, "facts"), (scope, filters)
        # One group or one network: its table is its own line per département.
        own_table = source == "cells" and (any(t.group for t in scope) or filters.network)
        assert _summary(aggregate, not own_table) == _summary(facts, not own_table), (
            scope,
            filters,
        )
        if own_table:
            assert sum(r.totals.demandes for r in aggregate.by_organisation) == (
                aggregate.totals.demandes
            )


async def test_a_demande_in_two_groups_of_a_mixed_scope_counts_once(world):
    groups, orgs = world
    await statistics.refresh(full=True)
    # D1 went to CAF and CPAM Paris: a scope over both organisations sees it once.
    scope = (
        StatisticsTerm(areas=frozenset({"75"}), organisation="caf"),
        StatisticsTerm(areas=frozenset({"75"}), organisation="cpam"),
    )
    fig = await statistics.figures(scope, RANGE, group_orgs=orgs)
    assert fig.source == "combos"
    assert fig.totals.demandes == 4  # D1, D4, D5 (CAF) and D6 (CPAM)
    assert {r.labels for r in fig.by_organisation} == {("caf", "75"), ("cpam", "75")}
    # So does a CPAM scope with the CAF de Paris group: D1 from the combinations only.
    mixed = (StatisticsTerm(organisation="cpam"), StatisticsTerm(group=groups["CAF de Paris"].id))
    fig = await statistics.figures(mixed, RANGE, group_orgs=orgs)
    assert fig.source == "combos+facts" and fig.totals.demandes == 4


async def test_tables_by_organisation_and_by_departement_give_the_delays(world):
    _, orgs = world
    await statistics.refresh(full=True)
    fig = await statistics.figures((StatisticsTerm(),), RANGE, group_orgs=orgs)
    caf = {r.labels: r.totals for r in fig.by_organisation}[("caf", "*")]
    # CAF: first answers D1 2.0 (weekend and Armistice), D2 1.0 (Good Friday in Moselle),
    # D3 1.0 (abolition day in Guadeloupe), D4 3.2 → median 1.0, p75 2.0; resolutions D3 2.0,
    # D1 3.1, D2 5.0 → median 3.1, p75 5.0.
    assert (caf.delay("first_answer", 0.5), caf.delay("first_answer", 0.75)) == (1.0, 2.0)
    assert (caf.delay("resolution", 0.5), caf.delay("resolution", 0.75)) == (3.1, 5.0)
    statistics.clear_public_cache()
    _, by_area = await statistics.public_figures(RANGE)
    delays = {
        r.labels[0]: tuple(
            r.totals.delay(which, p)
            for which in ("first_answer", "resolution")
            for p in (0.5, 0.75)
        )
        for r in by_area
    }
    # Paris: first answers 0.2 (D6), 2.0 (D1), 3.2 (D4); one resolution, D1 3.1.
    assert delays == {
        "75": (2.0, 3.2, 3.1, 3.1),
        "57": (1.0, 1.0, 5.0, 5.0),
        "971": (1.0, 1.0, 2.0, 2.0),
    }


async def test_filters_only_narrow_the_scope(world):
    groups, orgs = world
    await statistics.refresh(full=True)
    scope = (StatisticsTerm(areas=frozenset({"57"}), organisation="caf"),)
    # Asking for Paris from a Moselle scope gives nothing, not Paris.
    fig = await statistics.figures(
        scope, Filters(RANGE.first_month, RANGE.last_month, area="75"), group_orgs=orgs
    )
    assert fig.totals.demandes == 0 and fig.by_organisation == []
    other = await statistics.figures(
        scope,
        Filters(RANGE.first_month, RANGE.last_month, group=groups["CAF de Paris"].id),
        group_orgs=orgs,
    )
    assert other.totals.demandes == 0


async def test_incremental_refresh_follows_new_answers_and_keeps_wiped_facts(world):
    groups, orgs = world
    await statistics.refresh(full=True)
    scope = (StatisticsTerm(group=groups["CAF de Paris"].id),)
    before = await statistics.figures(scope, RANGE, group_orgs=orgs)
    app = await Application.objects().where(Application.created_at == paris(2025, 6, 2, 10)).first()
    instr = await applications.load_demande(app.id)
    assert instr is not None
    # An answer "traitée" today on D4: its resolution now exists (long after 7 days).
    aidant_id = app.creator
    from app.tables import User

    author = await User.objects().where(User.id != aidant_id).first()
    await applications.post_answer(app.id, author, body="Fait", marks_processed=True)
    report = await statistics.refresh()
    assert report.demandes >= 1 and not report.full
    after = await statistics.figures(scope, RANGE, group_orgs=orgs)
    assert after.totals.resolution.total() == before.totals.resolution.total() + 1
    # The wipe blanks personal data and may drop threads: facts computed before stay.
    await Application.update({Application.personal_data_wiped_at: clock.now()}).where(
        Application.id == app.id
    )
    await Application.raw("DELETE FROM answer WHERE application = {}", app.id)
    await statistics.refresh(full=True)
    kept = await statistics.figures(scope, RANGE, group_orgs=orgs)
    assert _summary(kept) == _summary(after)


def test_nearest_rank_percentiles():
    from collections import Counter

    assert statistics.nearest_rank(Counter([1, 2, 3, 4]), 0.75) == 3
    assert statistics.nearest_rank(Counter([1, 2, 3, 4, 5]), 0.75) == 4
    assert statistics.nearest_rank(Counter([7]), 0.5) == 7
    assert statistics.nearest_rank(Counter(), 0.5) is None


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.dictionaries(st.integers(0, 400), st.integers(1, 50), max_size=30), max_size=12
    ),
    p=st.sampled_from([0.01, 0.25, 0.5, 0.75, 0.9, 1.0]),
)
def test_histogram_of_parts_reads_the_same_percentiles_as_their_sum(parts, p):
    """The parts-and-bisection histogram the pages merge cells into gives the nearest rank
    of the summed multiset, whatever the parts (sorted, distinct values each, as SQL
    returns them)."""
    from collections import Counter

    histogram, summed = Histogram(), Counter()
    for part in parts:
        values = sorted(part)
        histogram.add(values, [part[v] for v in values])
        summed.update(part)
    assert histogram.total() == summed.total()
    assert sorted(histogram.elements()) == sorted(summed.elements())
    assert histogram.nearest_rank(p) == statistics.nearest_rank(summed, p)
    other = Histogram()
    other.update(histogram)
    assert other.nearest_rank(p) == histogram.nearest_rank(p)


def test_csv_cells_are_formula_safe():
    body = statistics.to_csv(["a", "b"], [["=HYPERLINK(1)", "+1"], ["-2", 0.5]])
    assert "'=HYPERLINK(1)" in body and "'+1" in body and "'-2" in body
    assert body.startswith("\ufeff") and "0.5" in body


async def test_a_demande_late_since_the_last_refresh_is_counted_by_the_next_one(world):
    groups, orgs = world
    aidant = await make_user(helper_in=[groups["FS Paris"]])
    instr = await make_user(instructor_in=[groups["CAF de Paris"]])
    # Open, both outcomes decided (taken in charge late, not resolved in 7 days), answered
    # yesterday: its next deadline is 15 business days away and nothing touches it meanwhile.
    app = await make_application(
        by=aidant,
        to=[groups["CAF de Paris"]],
        from_group=groups["FS Paris"],
        created_at=clock.now() - timedelta(days=20),
    )
    await answer(app, instr, clock.now() - timedelta(days=1))
    await statistics.refresh(full=True)
    scope = (StatisticsTerm(group=groups["CAF de Paris"].id),)
    before = await statistics.figures(scope, RANGE, group_orgs=orgs)
    clock.travel(timedelta(days=30).total_seconds())
    report = await statistics.refresh()
    assert report.demandes == 1
    after = await statistics.figures(scope, RANGE, group_orgs=orgs)
    assert after.late_now == before.late_now + 1
