"""Statistics: the per-demande facts, the monthly cells, and the figures of a scope.

Definitions (docs/decisions/2026-12-01-statistics.md), computed here and nowhere else:

- *resolved at*: the first time an answer marked the demande "traitée", or its first
  archiving when the creator said the help was useful ("Oui"), whichever comes first;
- *resolved in under 7 days*: resolved less than 7 × 24 hours after creation; undecided
  (left out of the share) while the 7 days are not over;
- *taken in charge within 3 business days*: a first answer from someone other than the
  creator no later than `business_days.add_business_days(created_at, 3, area)`;
- delays: `business_days.business_hours_between` / 24, kept in tenths of a business day;
  median and p75 by nearest rank (the smallest value with at least p of the demandes at
  or below it);
- "procédure standard" demandes count in volumes and in their own share, never in delays,
  resolution or taking in charge.

The `refresh` job writes one fact row per demande (`stats_demande`, no personal data, no
foreign key so it outlives the wipe) and sums them per month × département × dimension
(`stats_cell`). A page reads cells when its selection is one dimension value over a set of
départements (exact: a demande is in one département and counted once per dimension value),
and the facts otherwise (few rows: a member's groups, a mixed scope).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from app import clock
from app.domain import business_days
from app.policies import StatisticsTerm
from app.tables import Application

PARIS = ZoneInfo("Europe/Paris")
UNDER_DAYS = 7
IN_CHARGE_BUSINESS_DAYS = business_days.FIRST_ANSWER_BUSINESS_DAYS
DEFAULT_MONTHS = 12
BATCH = 5000
# The watermark is read with a margin: a transaction that began before the previous refresh
# may commit an older `updated_at` after it.
WATERMARK_MARGIN = timedelta(minutes=10)
USEFULNESS = (("oui", "Oui"), ("ne_sait_pas", "Je ne sais pas"), ("non", "Non"))


async def _raw(sql: str, *args: Any) -> list[dict]:
    return await Application.raw(sql, *args)


def month_of(moment: datetime) -> date:
    return moment.astimezone(PARIS).date().replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def tenths(start: datetime, end: datetime, area: str) -> int:
    """A delay in tenths of a business day (the département's calendar)."""
    return round(business_days.business_hours_between(start, end, area) * 10 / 24)


# --- facts of one demande ------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    application_id: UUID
    created_at: datetime
    month: date
    area: str
    groups: list[UUID]
    organisations: list[str]
    networks: list[str]
    is_irrelevant: bool
    usefulness: str | None
    first_answer_tenths: int | None
    resolution_tenths: int | None
    under_7_days: bool | None
    in_charge_3_days: bool | None
    is_open: bool
    late_at: datetime | None


def resolved_at(
    first_processed_at: datetime | None, first_archived_at: datetime | None, usefulness: str | None
) -> datetime | None:
    candidates = [first_processed_at]
    if usefulness == "oui":
        candidates.append(first_archived_at)
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


def fact_of(row: dict, groups: dict[UUID, dict], now: datetime) -> Fact:
    """The facts of one demande from its row (see `_FACTS_SOURCE_SQL`)."""
    created, area = row["created_at"], row["area"]
    group_ids = sorted({g for g in row["groups"] if g in groups})
    resolved = resolved_at(row["first_processed_at"], row["first_archived_at"], row["usefulness"])
    under = None
    if resolved is not None and resolved - created < timedelta(days=UNDER_DAYS):
        under = True
    elif now - created >= timedelta(days=UNDER_DAYS):
        under = False
    first = row["first_answer_at"]
    deadline = business_days.add_business_days(created, IN_CHARGE_BUSINESS_DAYS, area)
    in_charge = None
    if first is not None and first <= deadline:
        in_charge = True
    elif now > deadline:
        in_charge = False
    is_open = row["status"] in ("new", "in_progress")
    return Fact(
        application_id=row["id"],
        created_at=created,
        month=month_of(created),
        area=area,
        groups=group_ids,
        organisations=sorted({groups[g]["organisation"] for g in group_ids} - {None}),
        networks=sorted({groups[g]["network"] for g in group_ids} - {""}),
        is_irrelevant=row["is_irrelevant"],
        usefulness=row["usefulness"],
        first_answer_tenths=tenths(created, first, area) if first else None,
        resolution_tenths=tenths(created, resolved, area) if resolved else None,
        under_7_days=under,
        in_charge_3_days=in_charge,
        is_open=is_open,
        late_at=row["late_at"] if is_open else None,
    )


_FACTS_SOURCE_SQL = """
SELECT a.id, a.created_at, a.area, a.is_irrelevant, a.usefulness, a.status,
       a.first_answer_at, a.late_at,
       (SELECT min(t.created_at) FROM answer t
         WHERE t.application = a.id AND t.marks_processed) AS first_processed_at,
       (SELECT min(t.created_at) FROM answer t
         WHERE t.application = a.id AND t.kind = 'archive') AS first_archived_at,
       array_remove(ARRAY(SELECT ag."group" FROM application_group ag
                           WHERE ag.application = a.id) || a.creator_group, NULL) AS groups
  FROM application a
 WHERE a.id = ANY({})
"""

_UPSERT_SQL = """
INSERT INTO stats_demande AS s (application_id, created_at, month, area, groups, organisations,
  networks, is_irrelevant, usefulness, first_answer_tenths, resolution_tenths, under_7_days,
  in_charge_3_days, is_open, late_at, refreshed_at)
SELECT application_id, created_at, month, area, groups::uuid[], organisations::varchar[],
  networks::varchar[], is_irrelevant, usefulness, first_answer_tenths, resolution_tenths,
  under_7_days, in_charge_3_days, is_open, late_at, refreshed_at
FROM unnest({}::uuid[], {}::timestamptz[], {}::date[], {}::varchar[], {}::text[],
  {}::text[], {}::text[], {}::boolean[], {}::varchar[], {}::integer[], {}::integer[],
  {}::boolean[], {}::boolean[], {}::boolean[], {}::timestamptz[], {}::timestamptz[])
  AS x(application_id, created_at, month, area, groups, organisations, networks,
       is_irrelevant, usefulness, first_answer_tenths, resolution_tenths, under_7_days,
       in_charge_3_days, is_open, late_at, refreshed_at)
ON CONFLICT (application_id) DO UPDATE SET
  created_at = EXCLUDED.created_at, month = EXCLUDED.month, area = EXCLUDED.area,
  groups = EXCLUDED.groups, organisations = EXCLUDED.organisations,
  networks = EXCLUDED.networks, is_irrelevant = EXCLUDED.is_irrelevant,
  usefulness = EXCLUDED.usefulness, first_answer_tenths = EXCLUDED.first_answer_tenths,
  resolution_tenths = EXCLUDED.resolution_tenths, under_7_days = EXCLUDED.under_7_days,
  in_charge_3_days = EXCLUDED.in_charge_3_days, is_open = EXCLUDED.is_open,
  late_at = EXCLUDED.late_at, refreshed_at = EXCLUDED.refreshed_at
"""


def _pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal, for arrays nested in an unnest() column."""
    return (
        "{"
        + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


async def _write_facts(facts: Sequence[Fact], now: datetime) -> None:
    if not facts:
        return
    await _raw(
        _UPSERT_SQL,
        [f.application_id for f in facts],
        [f.created_at for f in facts],
        [f.month for f in facts],
        [f.area for f in facts],
        [_pg_array(f.groups) for f in facts],
        [_pg_array(f.organisations) for f in facts],
        [_pg_array(f.networks) for f in facts],
        [f.is_irrelevant for f in facts],
        [f.usefulness for f in facts],
        [f.first_answer_tenths for f in facts],
        [f.resolution_tenths for f in facts],
        [f.under_7_days for f in facts],
        [f.in_charge_3_days for f in facts],
        [f.is_open for f in facts],
        [f.late_at for f in facts],
        [now] * len(facts),
    )


# --- cells: the same sums for facts and for the rollup ------------------------------------


_COUNTS = (
    "demandes",
    "irrelevant",
    "under_7_yes",
    "under_7_no",
    "in_charge_yes",
    "in_charge_no",
    "useful_oui",
    "useful_ne_sait_pas",
    "useful_non",
)
# How each count reads off facts (the cells store them under the same names).
_FACT_COUNTS = {
    "demandes": "TRUE",
    "irrelevant": "is_irrelevant",
    "under_7_yes": "NOT is_irrelevant AND under_7_days",
    "under_7_no": "NOT is_irrelevant AND NOT under_7_days",
    "in_charge_yes": "NOT is_irrelevant AND in_charge_3_days",
    "in_charge_no": "NOT is_irrelevant AND NOT in_charge_3_days",
    "useful_oui": "usefulness = 'oui'",
    "useful_ne_sait_pas": "usefulness = 'ne_sait_pas'",
    "useful_non": "usefulness = 'non'",
}


def _sums_sql(
    source: str, keys: Sequence[str], *, of_cells: bool = False, histograms: bool = True
) -> str:
    """Cell columns summed over `source` grouped by `keys` (never NULL): `source` is a
    subquery of facts, or of cells (`of_cells`, whose histograms are merged)."""
    k = ", ".join(keys)
    if of_cells:
        counts = ",\n".join(f"sum({c})::int AS {c}" for c in _COUNTS)
    else:
        counts = ",\n".join(
            f"count(*) FILTER (WHERE {cond})::int AS {c}" for c, cond in _FACT_COUNTS.items()
        )

    def histogram(name: str) -> str:
        if of_cells:
            pairs = (
                f"SELECT {k}, v, sum(n)::int AS c FROM f,"
                f" unnest({name}_values, {name}_counts) AS h(v, n) GROUP BY {k}, v"
            )
        else:
            pairs = (
                f"SELECT {k}, {name}_tenths AS v, count(*)::int AS c FROM f"
                f" WHERE NOT is_irrelevant AND {name}_tenths IS NOT NULL"
                f" GROUP BY {k}, {name}_tenths"
            )
        return (
            f"SELECT {k}, array_agg(v ORDER BY v) AS vals, array_agg(c ORDER BY v) AS cnts"
            f" FROM ({pairs}) x GROUP BY {k}"
        )

    if not histograms:
        return f"""
SELECT {k}, {counts}, ARRAY[]::int[] AS first_answer_values,
       ARRAY[]::int[] AS first_answer_counts, ARRAY[]::int[] AS resolution_values,
       ARRAY[]::int[] AS resolution_counts
  FROM ({source}) f GROUP BY {k}
"""
    return f"""
WITH f AS MATERIALIZED ({source}),
b AS (SELECT {k}, {counts} FROM f GROUP BY {k}),
fa AS ({histogram("first_answer")}),
re AS ({histogram("resolution")})
SELECT b.*,
       COALESCE(fa.vals, ARRAY[]::int[]) AS first_answer_values,
       COALESCE(fa.cnts, ARRAY[]::int[]) AS first_answer_counts,
       COALESCE(re.vals, ARRAY[]::int[]) AS resolution_values,
       COALESCE(re.cnts, ARRAY[]::int[]) AS resolution_counts
  FROM b LEFT JOIN fa USING ({k}) LEFT JOIN re USING ({k})
"""


_FACT_COLUMNS = (
    "month, area, is_irrelevant, usefulness, under_7_days, in_charge_3_days,"
    " first_answer_tenths, resolution_tenths"
)

# Each dimension value is summed per département and over all of them (area '*'), so a
# national or organisation-wide page reads one cell per month.
_CELLS_BRANCHES = (
    ("'all'::varchar", "''::varchar", ""),
    ("'org'", "o", ", unnest(organisations) o"),
    ("'group'", "g::text", ", unnest(groups) g"),
    ("'network'", "n", ", unnest(networks) n"),
)
_CELLS_SOURCE = " UNION ALL ".join(
    f"SELECT {dim} AS dim, {key} AS key, month, {area} AS area, is_irrelevant, usefulness,"
    " under_7_days, in_charge_3_days, first_answer_tenths, resolution_tenths"
    f" FROM stats_demande{join} WHERE month = ANY({{}})"
    for dim, key, join in _CELLS_BRANCHES
    for area in ("area", "'*'::varchar")
)


async def _rebuild_cells(months: Iterable[date]) -> None:
    months = sorted(set(months))
    if not months:
        return
    sums = _sums_sql(_CELLS_SOURCE, ["dim", "key", "month", "area"])
    # One transaction: a page never sees a month whose cells are half rebuilt.
    async with Application._meta.db.transaction():
        await _raw("DELETE FROM stats_cell WHERE month = ANY({})", months)
        await _raw(
            "INSERT INTO stats_cell (dim, key, month, area, demandes, irrelevant, under_7_yes,"
            " under_7_no, in_charge_yes, in_charge_no, useful_oui, useful_ne_sait_pas,"
            " useful_non, first_answer_values, first_answer_counts, resolution_values,"
            " resolution_counts) " + sums,
            *[months] * _CELLS_SOURCE.count("{}"),
        )


# --- refresh -------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    demandes: int
    months: int
    seconds: float
    full: bool


async def refresh(*, full: bool = False) -> RefreshReport:
    """Bring the facts and cells up to date: every demande whose personal data is not wiped
    (`full`), or those changed since the last refresh plus those whose outcome was pending.

    Wiped demandes keep the facts computed before the wipe: their threads may be gone.
    """
    started = time.monotonic()
    now = clock.now()
    state = await _raw("SELECT watermark FROM stats_refresh WHERE id = 1")
    if full or not state:
        ids_rows = await _raw("SELECT id FROM application WHERE personal_data_wiped_at IS NULL")
    else:
        since = state[0]["watermark"] - WATERMARK_MARGIN
        ids_rows = await _raw(
            "SELECT id FROM application WHERE updated_at > {} AND personal_data_wiped_at IS NULL"
            " UNION SELECT application_id FROM stats_demande s JOIN application a"
            " ON a.id = s.application_id AND a.personal_data_wiped_at IS NULL"
            # Pending outcomes whose window may have closed since (a demande answered or
            # resolved meanwhile has a newer updated_at and is in the first part).
            " WHERE (s.under_7_days IS NULL AND s.created_at <= {})"
            " OR (s.in_charge_3_days IS NULL AND s.created_at <= {})",
            since,
            now - timedelta(days=UNDER_DAYS),
            # 3 business days are never shorter than 3 calendar days.
            now - timedelta(days=IN_CHARGE_BUSINESS_DAYS),
        )
    ids = [r["id"] for r in ids_rows]
    groups = {r["id"]: r for r in await _raw("SELECT id, organisation, network FROM app_group")}
    months: set[date] = set()
    for start in range(0, len(ids), BATCH):
        rows = await _raw(_FACTS_SOURCE_SQL, ids[start : start + BATCH])
        facts = [fact_of(r, groups, now) for r in rows]
        months.update(f.month for f in facts)
        await _write_facts(facts, now)
    if full:
        # Months without any fact left (never the case in production) lose their old cells.
        months.update(r["month"] for r in await _raw("SELECT DISTINCT month FROM stats_cell"))
    await _rebuild_cells(months)
    seconds = time.monotonic() - started
    await _raw(
        "INSERT INTO stats_refresh (id, refreshed_at, watermark, seconds, demandes)"
        " VALUES (1, {}, {}, {}, {}) ON CONFLICT (id) DO UPDATE SET"
        " refreshed_at = EXCLUDED.refreshed_at, watermark = EXCLUDED.watermark,"
        " seconds = EXCLUDED.seconds, demandes = EXCLUDED.demandes",
        clock.now(),
        now,
        seconds,
        len(ids),
    )
    return RefreshReport(demandes=len(ids), months=len(months), seconds=seconds, full=full)


async def last_refresh() -> datetime | None:
    rows = await _raw("SELECT refreshed_at FROM stats_refresh WHERE id = 1")
    return rows[0]["refreshed_at"] if rows else None


# --- figures -------------------------------------------------------------------------------


def nearest_rank(histogram: Counter, p: float) -> int | None:
    """The smallest value with at least a share `p` of the counted values at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(p * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover (rank <= total)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# The counters of `Totals` that add up across rows and selections (the rest are histograms).
SUMMED_COUNTS = (
    "demandes",
    "irrelevant",
    "under_7_yes",
    "under_7_no",
    "in_charge_yes",
    "in_charge_no",
    "useful_oui",
    "useful_ne_sait_pas",
    "useful_non",
)


@dataclass
class Totals:
    """Sums of cells, and what reads off them."""

    demandes: int = 0
    irrelevant: int = 0
    under_7_yes: int = 0
    under_7_no: int = 0
    in_charge_yes: int = 0
    in_charge_no: int = 0
    useful_oui: int = 0
    useful_ne_sait_pas: int = 0
    useful_non: int = 0
    first_answer: Counter = field(default_factory=Counter)
    resolution: Counter = field(default_factory=Counter)

    def add(self, row: dict) -> None:
        for name in SUMMED_COUNTS:
            setattr(self, name, getattr(self, name) + row[name])
        for value, count in zip(
            row["first_answer_values"], row["first_answer_counts"], strict=True
        ):
            self.first_answer[value] += count
        for value, count in zip(row["resolution_values"], row["resolution_counts"], strict=True):
            self.resolution[value] += count

    @property
    def under_7_share(self) -> float | None:
        return share(self.under_7_yes, self.under_7_yes + self.under_7_no)

    @property
    def in_charge_share(self) -> float | None:
        return share(self.in_charge_yes, self.in_charge_yes + self.in_charge_no)

    @property
    def irrelevant_share(self) -> float | None:
        return share(self.irrelevant, self.demandes)

    @property
    def useful_answers(self) -> int:
        return self.useful_oui + self.useful_ne_sait_pas + self.useful_non

    def useful_share(self, code: str) -> float | None:
        return share(getattr(self, f"useful_{code}"), self.useful_answers)

    def delay(self, which: str, p: float) -> float | None:
        value = nearest_rank(getattr(self, which), p)
        return None if value is None else value / 10


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


class _Where:
    """A SQL condition on stats_demande with its arguments, for Piccolo's `{}` placeholders."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, sql: str, *args: Any) -> _Where:
        self.parts.append(sql)
        self.args.extend(args)
        return self

    def terms(self, terms: list[StatisticsTerm]) -> _Where:
        alternatives = []
        for t in terms:
            conditions = []
            if t.areas is not None:
                conditions.append("area = ANY({})")
                self.args.append(sorted(t.areas))
            if t.organisation:
                conditions.append("organisations @> ARRAY[{}]::varchar[]")
                self.args.append(t.organisation)
            if t.group:
                conditions.append("groups @> ARRAY[{}]::uuid[]")
                self.args.append(t.group)
            if t.network:
                conditions.append("networks @> ARRAY[{}]::varchar[]")
                self.args.append(t.network)
            alternatives.append("(" + (" AND ".join(conditions) or "TRUE") + ")")
        self.parts.append("(" + (" OR ".join(alternatives) or "FALSE") + ")")
        # Implied by the alternatives, but usable by the indexes ((month, area), GIN).
        if terms and all(t.areas is not None for t in terms):
            self.parts.append("area = ANY({})")
            self.args.append(sorted(set().union(*(t.areas for t in terms))))
        if terms and all(t.organisation for t in terms):
            self.parts.append("organisations && {}::varchar[]")
            self.args.append(sorted({t.organisation for t in terms}))
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


_CELL_COLUMNS = (
    "demandes, irrelevant, under_7_yes, under_7_no, in_charge_yes, in_charge_no, useful_oui,"
    " useful_ne_sait_pas, useful_non, first_answer_values, first_answer_counts,"
    " resolution_values, resolution_counts"
)


async def _cell_sums(
    keys: list[str],
    filters: Filters,
    *,
    dim: str,
    key: str | None,
    areas: list[str] | None,
    histograms: bool = True,
) -> list[dict]:
    """Cells of one dimension (one value, or all of them when `key` is None) in the
    filters' months and `areas` (None: all), summed per `keys` in the database."""
    where = _Where().add("dim = {}", dim)
    if key is not None:
        where.add("key = {}", key)
    where.add("month BETWEEN {} AND {}", filters.first_month, filters.last_month)
    if areas is not None:
        where.add("area = ANY({})", areas)
    elif "area" in keys:
        where.add("area <> '*'")
    else:
        where.add("area = '*'")
    source = f"SELECT * FROM stats_cell WHERE {where.sql}"
    return await _raw(_sums_sql(source, keys, of_cells=True, histograms=histograms), *where.args)


async def _fact_sums(where: _Where, keys: list[str], source_extra: str = "") -> list[dict]:
    source = f"SELECT {_FACT_COLUMNS}{source_extra} FROM stats_demande WHERE {where.sql}"
    return await _raw(_sums_sql(source, keys), *where.args)


def _group_rows(rows: Iterable[dict], key: Any) -> dict[Any, Totals]:
    grouped: dict[Any, Totals] = {}
    for row in rows:
        grouped.setdefault(key(row), Totals()).add(row)
    return grouped


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
    unless `every_area` asks for each département (the CSV)."""
    terms = narrow(scope, filters, group_orgs)
    single = None if force_facts else _single_dimension(terms)
    months_where = _Where().add("month BETWEEN {} AND {}", filters.first_month, filters.last_month)
    if single is not None:
        dim, key, areas = single
        main = await _cell_sums(["month"], filters, dim=dim, key=key, areas=areas)
        by_month = _group_rows(main, lambda r: r["month"])
        if dim in ("all", "org"):
            # Tables by organisation × département carry volumes and shares, not delays:
            # merging thousands of histograms per page would cost more than the page.
            org_rows = await _cell_sums(
                ["key"] if areas is None and not every_area else ["key", "area"],
                filters,
                dim="org",
                key=key if dim == "org" else None,
                areas=areas,
                histograms=False,
            )
            by_org = _group_rows(org_rows, lambda r: (r["key"], r.get("area", "*")))
        else:
            # One group or one network: its own cells per département (labelled with the
            # group's organisation or the network), not a scan of its demandes.
            label = (group_orgs.get(UUID(key)) or "") if dim == "group" else key
            own = await _cell_sums(
                ["area"], filters, dim=dim, key=key, areas=areas, histograms=False
            )
            by_org = _group_rows(own, lambda r: (label, r["area"]))
        source = "cells"
    else:
        where = _Where().add(months_where.sql, *months_where.args).terms(terms)
        by_month = _group_rows(await _fact_sums(where, ["month"]), lambda r: r["month"])
        by_org = None
        source = "facts"
    if by_org is None:
        where = _Where().add(months_where.sql, *months_where.args).terms(terms)
        orgs = {t.organisation for t in terms}
        restrict = ""
        if terms and None not in orgs:
            restrict = " AND org = ANY({})"
            where.args.append(sorted(orgs))
        rows = await _raw(
            _sums_sql(
                f"SELECT org, {_FACT_COLUMNS} FROM stats_demande, unnest(organisations) org"
                f" WHERE {where.sql}{restrict}",
                ["org", "area"],
                histograms=False,
            ),
            *where.args,
        )
        by_org = _group_rows(rows, lambda r: (r["org"], r["area"]))
    total = Totals()
    months = []
    month = filters.first_month
    while month <= filters.last_month:
        t = by_month.get(month, Totals())
        months.append((month, t))
        month = add_months(month, 1)
    for t in by_month.values():
        _merge(total, t)
    by_group: list[Row] = []
    group_terms = [t for t in terms if t.group]
    if group_terms and len(group_terms) == len(terms):
        for t in group_terms:
            if t.network or t.organisation:
                rows = await _fact_sums(
                    _Where().add(months_where.sql, *months_where.args).terms([t]), ["month"]
                )
            else:
                areas = sorted(t.areas) if t.areas is not None else None
                rows = await _cell_sums(
                    ["key"], filters, dim="group", key=str(t.group), areas=areas
                )
            gt = Totals()
            for r in rows:
                gt.add(r)
            name = (group_names or {}).get(t.group, str(t.group))
            by_group.append(Row((name,), gt))
    late_where = _Where().add("is_open AND late_at < {}", clock.now()).terms(terms)
    late = await _raw(
        f"SELECT count(*) AS n FROM stats_demande WHERE {late_where.sql}", *late_where.args
    )
    return Figures(
        first_month=filters.first_month,
        last_month=filters.last_month,
        totals=total,
        months=months,
        late_now=late[0]["n"],
        by_organisation=[
            Row(key, totals) for key, totals in sorted(by_org.items(), key=lambda kv: kv[0])
        ],
        by_group=sorted(by_group, key=lambda r: r.labels),
        source=source,
    )


def _merge(into: Totals, other: Totals) -> None:
    for name in SUMMED_COUNTS:
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.first_answer.update(other.first_answer)
    into.resolution.update(other.resolution)


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
    rows = await _cell_sums(["area"], filters, dim="all", key="", areas=None, histograms=False)
    by_area = _group_rows(rows, lambda r: r["area"])
    area_rows = [Row((code,), totals) for code, totals in sorted(by_area.items())]
    _public_cache[key] = (clock.now().timestamp(), national, area_rows)
    return national, area_rows


def clear_public_cache() -> None:
    _public_cache.clear()


# --- deployment ----------------------------------------------------------------------------


async def deployment(terms: Iterable[StatisticsTerm]) -> list[dict]:
    """Active instructeurs per partner organisation × département, within the terms."""
    where = _Where()
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
    return await _raw(
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
