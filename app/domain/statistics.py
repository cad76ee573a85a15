"""Statistics of a scope: the figures a page shows, read from the aggregate.

The aggregate (facts, cells, combinations) is written by `statistics_aggregate` and read by
`statistics_queries`; the definitions of every figure are in `statistics_aggregate`. Here a
selection (the viewer's scope narrowed by the filters) is mapped to the fewest rows to sum:
- one dimension value (everyone, one organisation, one group, one network) over a set of
  départements: its cells, one per month (and per line of the tables);
- any other selection without a group (several organisations, organisation × network):
  the combinations of organisations × networks it matches, each demande in one of them;
- one group narrowed by an organisation or a network: the group's own combinations;
- several groups (a member's), or groups beside other terms: the facts of the groups'
  demandes not already counted by the rest of the scope (bounded by the groups' sizes).
See docs/decisions/2026-12-02-statistics-cells.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from app import clock
from app.domain.statistics_aggregate import (  # noqa: F401 (the module's public face)
    LAST_REFRESH_SQL,
    LATE_SQL,
    PARIS,
    RefreshReport,
    add_months,
    fact_of,
    last_refresh,
    month_of,
    raw,
    refresh,
)
from app.domain.statistics_queries import (  # noqa: F401
    Totals,
    Where,
    cell_rows,
    combo_rows,
    combo_where,
    fact_sums,
    group_rows,
    merge,
    merge_grouped,
    nearest_rank,
    share,
)
from app.policies import StatisticsTerm

DEFAULT_MONTHS = 12
USEFULNESS = (("oui", "Oui"), ("ne_sait_pas", "Je ne sais pas"), ("non", "Non"))


@dataclass
class Row:
    """One line of a table: its labels and its totals."""

    labels: tuple[str, ...]
    totals: Totals


@dataclass
class Figures:
    first_month: date
    last_month: date
    totals: Totals
    months: list[tuple[date, Totals]]
    late_now: int
    by_organisation: list[Row]
    by_group: list[Row]
    source: str  # "cells" or "facts", for the benchmark and the tests


@dataclass(frozen=True)
class Filters:
    first_month: date
    last_month: date
    area: str | None = None
    organisation: str | None = None
    group: UUID | None = None
    network: str | None = None


def default_months(today: date | None = None) -> tuple[date, date]:
    last = (today or clock.now().astimezone(PARIS).date()).replace(day=1)
    return add_months(last, -(DEFAULT_MONTHS - 1)), last


def narrow(
    scope: Iterable[StatisticsTerm], filters: Filters, group_orgs: dict[UUID, str | None]
) -> list[StatisticsTerm]:
    """The scope's terms intersected with the filters: a filter only ever removes demandes."""
    result: list[StatisticsTerm] = []
    for term in scope:
        areas = term.areas
        if filters.area:
            areas = frozenset([filters.area]) & (areas if areas is not None else {filters.area})
            if not areas:
                continue
        org = term.organisation
        if filters.organisation:
            if org and org != filters.organisation:
                continue
            org = filters.organisation
        group = term.group
        if filters.group:
            if group and group != filters.group:
                continue
            group = filters.group
        if group and org and group_orgs.get(group) == org:
            # Every demande of the group already has the group's organisation.
            org = None
        narrowed = StatisticsTerm(areas, org, group, filters.network or term.network)
        if narrowed not in result:
            result.append(narrowed)
    return result


def _single_dimension(terms: list[StatisticsTerm]) -> tuple[str, str, list[str] | None] | None:
    """(dim, key, areas or None for all) when the terms are one dimension value over areas."""
    keys = {(t.organisation, t.group, t.network) for t in terms}
    if len(keys) != 1:
        return None
    org, group, network = keys.pop()
    if sum(x is not None for x in (org, group, network)) > 1:
        return None
    areas: set[str] | None = set()
    for t in terms:
        if t.areas is None:
            areas = None
            break
        areas |= t.areas
    area_list = None if areas is None else sorted(areas)
    if org:
        return "org", org, area_list
    if group:
        return "group", str(group), area_list
    if network:
        return "network", network, area_list
    return "all", "", area_list


async def _from_cells(
    dim: str,
    key: str,
    areas: list[str] | None,
    filters: Filters,
    group_orgs: dict[UUID, str | None],
    every_area: bool,
) -> tuple[dict, dict]:
    """(by month, by organisation × département) of one dimension value, from its cells."""
    months = months_of(filters)
    by_month = group_rows(await cell_rows(*months, dim=dim, key=key, areas=areas), _month_key)
    if dim in ("all", "org"):
        per_area = areas is not None or every_area
        rows = await cell_rows(
            *months,
            dim="org",
            key=key if dim == "org" else None,
            areas=areas,
            per_area=per_area,
        )
        return by_month, group_rows(rows, lambda r: (r["key"], r["area"]))
    # One group or one network: its own cells per département (labelled with the group's
    # organisation or the network), not a scan of its demandes.
    label = (group_orgs.get(UUID(key)) or "") if dim == "group" else key
    rows = await cell_rows(*months, dim=dim, key=key, areas=areas, per_area=True)
    return by_month, group_rows(rows, lambda r: (label, r["area"]))


async def _from_combos(
    terms: list[StatisticsTerm],
    filters: Filters,
    per_area: bool,
    only: set[str] | None,
    group: UUID | None = None,
) -> tuple[dict, dict]:
    """(by month, by organisation × département) of terms without a group, or of one group
    narrowed by an organisation or a network, from the combinations."""
    combos = await combo_rows(*months_of(filters), terms, per_area=per_area, group=group)
    by_org = group_rows(
        (
            {**row, "org": org}
            for row in combos
            for org in row["organisations"]
            if only is None or org in only
        ),
        lambda r: (r["org"], r["area"]),
    )
    return group_rows(combos, _month_key), by_org


async def _from_combos_and_facts(
    plain: list[StatisticsTerm],
    grouped: list[StatisticsTerm],
    filters: Filters,
    every_area: bool,
    one_group: bool,
) -> tuple[dict, dict]:
    """(by month, by organisation × département): the terms without a group from the
    combinations, the demandes of the `grouped` terms they miss from the facts (a single
    group from its own combinations)."""
    orgs = {t.organisation for t in plain + grouped}
    # A scope of named organisations shows only them in its table.
    only = set(orgs) if orgs and None not in orgs else None
    per_area = every_area or any(t.areas is not None for t in plain)
    if one_group:
        return await _from_combos(grouped, filters, True, only, group=grouped[0].group)
    by_month: dict = {}
    by_org: dict = {}
    if plain:
        by_month, by_org = await _from_combos(plain, filters, per_area, only)
    if grouped:
        where = Where(*months_of(filters)).terms(grouped).excluding(plain)
        merge_grouped(by_month, group_rows(await fact_sums(["month"], where), _month_key))
        where = Where(*months_of(filters)).terms(grouped).excluding(plain)
        if only is not None:
            where.add("org = ANY({})", sorted(only))
        area = "area" if per_area or not plain else "'*'::varchar"
        rows = await fact_sums(["org", "area"], where, by_org=True, area=area)
        merge_grouped(by_org, group_rows(rows, lambda r: (r["org"], r["area"])))
    return by_month, by_org


def _month_key(row: dict) -> date:
    return row["month"]


def months_of(filters: Filters) -> tuple[date, date]:
    return filters.first_month, filters.last_month


async def figures(
    scope: Iterable[StatisticsTerm],
    filters: Filters,
    *,
    group_orgs: dict[UUID, str | None],
    group_names: dict[UUID, str] | None = None,
    force_facts: bool = False,
    every_area: bool = False,
) -> Figures:
    """The figures of the demandes in `scope` narrowed by `filters` (created in its months).

    Over all départements the organisation table has one line per organisation (area `*`)
    unless `every_area` asks for each département (the CSV). `force_facts` reads the
    per-demande facts only (the tests compare it with the aggregate)."""
    terms = narrow(scope, filters, group_orgs)
    single = None if force_facts else _single_dimension(terms)
    plain = [] if force_facts else [t for t in terms if not t.group]
    grouped = terms if force_facts else [t for t in terms if t.group]
    # One group narrowed by an organisation or a network: the group's combinations.
    one_group = not force_facts and not plain and len(grouped) == 1
    if single is not None:
        by_month, by_org = await _from_cells(*single, filters, group_orgs, every_area)
        source = "cells"
    else:
        by_month, by_org = await _from_combos_and_facts(
            plain, grouped, filters, every_area, one_group
        )
        facts = bool(grouped) and not one_group or not terms
        source = "+".join(
            name for name, used in (("combos", plain or not facts), ("facts", facts)) if used
        )
    total = Totals()
    months = []
    month = filters.first_month
    while month <= filters.last_month:
        t = by_month.get(month, Totals())
        months.append((month, t))
        merge(total, t)
        month = add_months(month, 1)
    group_terms = [t for t in terms if t.group]
    names = group_names or {}
    by_group = []
    if len(terms) == 1 and group_terms:
        by_group = [Row((names.get(terms[0].group, str(terms[0].group)),), total)]
    elif group_terms and len(group_terms) == len(terms):
        by_group = await _group_table(group_terms, filters, names)
    return Figures(
        first_month=filters.first_month,
        last_month=filters.last_month,
        totals=total,
        months=months,
        late_now=await _late_now(single, plain, grouped, one_group),
        by_organisation=[
            Row(key, totals) for key, totals in sorted(by_org.items(), key=lambda kv: kv[0])
        ],
        by_group=sorted(by_group, key=lambda r: r.labels),
        source=source,
    )


async def _late_now(
    single: tuple[str, str, list[str] | None] | None,
    plain: list[StatisticsTerm],
    grouped: list[StatisticsTerm],
    one_group: bool,
) -> int:
    """Open demandes of the selection past their deadline at the last refresh, created in
    any month: the cells' or combinations' counts, the facts' for groups."""
    queries = []
    if single is not None:
        dim, key, areas = single
        where = Where().add("dim = {} AND key = {}", dim, key)
        if areas is None:
            where.add("area = '*'")
        else:
            where.add("area = ANY({})", areas)
        queries.append(("SELECT sum(late) AS n FROM stats_cell", where))
    elif one_group:
        where = combo_where(grouped, grouped[0].group, True)
        queries.append(("SELECT sum(late) AS n FROM stats_combo", where))
    else:
        if plain:
            where = combo_where(plain, None, any(t.areas is not None for t in plain))
            queries.append(("SELECT sum(late) AS n FROM stats_combo", where))
        if grouped:
            where = Where().add(LATE_SQL.format(late_before=LAST_REFRESH_SQL))
            queries.append(
                ("SELECT count(*) AS n FROM stats_demande", where.terms(grouped).excluding(plain))
            )
    late = 0
    for select, where in queries:
        late += (await raw(f"{select} WHERE {where.sql}", *where.args))[0]["n"] or 0
    return late


async def _group_table(
    group_terms: list[StatisticsTerm], filters: Filters, group_names: dict[UUID, str]
) -> list[Row]:
    """One line per group of a scope made of groups: its cells, or its facts when the group
    is narrowed by a network or an organisation."""
    rows = []
    for t in group_terms:
        if t.network or t.organisation:
            found = await fact_sums(["month"], Where(*months_of(filters)).terms([t]))
        else:
            areas = sorted(t.areas) if t.areas is not None else None
            found = await cell_rows(*months_of(filters), dim="group", key=str(t.group), areas=areas)
        totals = Totals()
        for r in found:
            totals.add(r)
        rows.append(Row((group_names.get(t.group, str(t.group)),), totals))
    return rows


# --- public figures (cached) ---------------------------------------------------------------

PUBLIC_TTL_SECONDS = 600
_public_cache: dict[tuple[date, date], tuple[float, Figures, list[Row]]] = {}


async def public_figures(filters: Filters) -> tuple[Figures, list[Row]]:
    """National figures and a table by département, kept in memory for 10 minutes."""
    key = (filters.first_month, filters.last_month)
    cached = _public_cache.get(key)
    if cached and clock.now().timestamp() - cached[0] < PUBLIC_TTL_SECONDS:
        return cached[1], cached[2]
    national = await figures((StatisticsTerm(),), replace(filters), group_orgs={})
    rows = await cell_rows(*months_of(filters), dim="all", key="", areas=None, per_area=True)
    by_area = group_rows(rows, lambda r: r["area"])
    area_rows = [Row((code,), totals) for code, totals in sorted(by_area.items())]
    _public_cache[key] = (clock.now().timestamp(), national, area_rows)
    return national, area_rows


def clear_public_cache() -> None:
    _public_cache.clear()


# --- deployment ----------------------------------------------------------------------------


async def deployment(terms: Iterable[StatisticsTerm]) -> list[dict]:
    """Active instructeurs per partner organisation × département, within the terms."""
    where = Where()
    alternatives = []
    for t in terms:
        conditions = []
        if t.areas is not None:
            conditions.append("area = ANY({})")
            where.args.append(sorted(t.areas))
        if t.organisation:
            conditions.append("organisation = {}")
            where.args.append(t.organisation)
        alternatives.append("(" + (" AND ".join(conditions) or "TRUE") + ")")
    condition = " OR ".join(alternatives) or "FALSE"
    return await raw(
        "SELECT organisation, area, count(DISTINCT u) AS instructeurs FROM ("
        ' SELECT g.organisation, unnest(g.areas) AS area, m."user" AS u'
        " FROM app_group g JOIN organisation o ON o.code = g.organisation AND o.kind = 'partner'"
        ' JOIN membership m ON m."group" = g.id'
        ' JOIN app_user usr ON usr.id = m."user" AND usr.is_instructor AND usr.disabled_at IS NULL'
        f") x WHERE {condition} GROUP BY organisation, area ORDER BY organisation, area",
        *where.args,
    )


# --- CSV -----------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell no spreadsheet reads as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return "\ufeff" + out.getvalue()
