"""The statistics aggregate: one row of facts per demande and their sums (the writer side).

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
foreign key so it outlives the wipe) and sums them per month × département:
- `stats_cell`: per dimension value (everyone, one organisation, one group, one network);
- `stats_combo`: per combination of organisations × networks a demande involves, so any
  selection without a group (organisation × network, several organisations) is a sum of
  combinations, each demande in exactly one (docs/decisions/2026-12-02-statistics-cells.md).
Every cell carries exact histograms of the delays (tenths of a business day), which merge
by addition: a median or p75 over any set of cells is the one over their demandes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from app import clock
from app.domain import business_days
from app.tables import Application

PARIS = ZoneInfo("Europe/Paris")
UNDER_DAYS = 7
IN_CHARGE_BUSINESS_DAYS = business_days.FIRST_ANSWER_BUSINESS_DAYS
BATCH = 5000
# The watermark is read with a margin: a transaction that began before the previous refresh
# may commit an older `updated_at` after it.
WATERMARK_MARGIN = timedelta(minutes=10)


async def raw(sql: str, *args: Any) -> list[dict]:
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
    await raw(
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


COUNTS = (
    "demandes",
    "irrelevant",
    "under_7_yes",
    "under_7_no",
    "in_charge_yes",
    "in_charge_no",
    "useful_oui",
    "useful_ne_sait_pas",
    "useful_non",
    "late",
)
# The moment "late" is counted at: the last refresh (cells and facts alike).
LAST_REFRESH_SQL = "(SELECT watermark FROM stats_refresh WHERE id = 1)"
LATE_SQL = "is_open AND late_at < {late_before}"
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
    # Open and past its deadline when counted, whatever the month (see `late_before`).
    "late": LATE_SQL,
}


def sums_sql(source: str, keys: Sequence[str], *, late_before: str = "") -> str:
    """Cell columns summed over `source`, a subquery of facts, grouped by `keys` (never
    NULL). Facts are "late" when open past their deadline at `late_before` (SQL; the last
    refresh by default)."""
    k = ", ".join(keys)
    late_before = late_before or LAST_REFRESH_SQL
    counts = ",\n".join(
        f"count(*) FILTER (WHERE {cond.format(late_before=late_before)})::int AS {c}"
        for c, cond in _FACT_COUNTS.items()
    )

    def histogram(name: str) -> str:
        return (
            f"SELECT {k}, array_agg(v ORDER BY v) AS vals, array_agg(c ORDER BY v) AS cnts"
            f" FROM (SELECT {k}, {name}_tenths AS v, count(*)::int AS c FROM f"
            f" WHERE NOT is_irrelevant AND {name}_tenths IS NOT NULL"
            f" GROUP BY {k}, {name}_tenths) x GROUP BY {k}"
        )

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


_FACT_VALUES = (
    "is_irrelevant, usefulness, under_7_days, in_charge_3_days, first_answer_tenths,"
    " resolution_tenths, is_open, late_at"
)
FACT_COLUMNS = "month, area, " + _FACT_VALUES
# Each dimension value is summed per département and over all of them (area '*'), so a
# national or organisation-wide page reads one cell per month.
_CELLS_BRANCHES = (
    ("'all'::varchar", "''::varchar", ""),
    ("'org'", "o", ", unnest(organisations) o"),
    ("'group'", "g::text", ", unnest(groups) g"),
    ("'network'", "n", ", unnest(networks) n"),
)
_CELLS_SOURCE = " UNION ALL ".join(
    f"SELECT {dim} AS dim, {key} AS key, month, {area} AS area,"
    f" {_FACT_VALUES} FROM stats_demande{join} WHERE month = ANY({{}})"
    for dim, key, join in _CELLS_BRANCHES
    for area in ("area", "'*'::varchar")
)


# Each combination of organisations × networks, per département and over all of them, and
# per group and département.
_COMBO_SOURCE = " UNION ALL ".join(
    f"SELECT month, {area} AS area, {grp} AS grp, organisations, networks, {_FACT_VALUES}"
    f" FROM stats_demande{join} WHERE month = ANY({{}})"
    for area, grp, join in (
        ("area", "''::varchar", ""),
        ("'*'::varchar", "''::varchar", ""),
        ("area", "g::text", ", unnest(groups) g"),
    )
)
CELL_COLUMNS = (
    "demandes, irrelevant, under_7_yes, under_7_no, in_charge_yes, in_charge_no, useful_oui,"
    " useful_ne_sait_pas, useful_non, late, first_answer_values, first_answer_counts,"
    " resolution_values, resolution_counts"
)


async def _rebuild_cells(months: Iterable[date], now: datetime) -> None:
    months = sorted(set(months))
    if not months:
        return
    # One transaction: a page never sees a month whose cells are half rebuilt.
    async with Application._meta.db.transaction():
        for table, keys, source in (
            ("stats_cell", ["dim", "key", "month", "area"], _CELLS_SOURCE),
            ("stats_combo", ["month", "area", "grp", "organisations", "networks"], _COMBO_SOURCE),
        ):
            await raw(f"DELETE FROM {table} WHERE month = ANY({{}})", months)
            await raw(
                f"INSERT INTO {table} ({', '.join(keys)}, {CELL_COLUMNS}) "
                + sums_sql(source, keys, late_before=f"'{now.isoformat()}'::timestamptz"),
                *[months] * source.count("{}"),
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
    state = await raw("SELECT watermark FROM stats_refresh WHERE id = 1")
    if full or not state:
        ids_rows = await raw("SELECT id FROM application WHERE personal_data_wiped_at IS NULL")
    else:
        since = state[0]["watermark"] - WATERMARK_MARGIN
        ids_rows = await raw(
            "SELECT id FROM application WHERE updated_at > {} AND personal_data_wiped_at IS NULL"
            " UNION SELECT application_id FROM stats_demande s JOIN application a"
            " ON a.id = s.application_id AND a.personal_data_wiped_at IS NULL"
            # Pending outcomes whose window may have closed since (a demande answered or
            # resolved meanwhile has a newer updated_at and is in the first part).
            " WHERE (s.under_7_days IS NULL AND s.created_at <= {})"
            " OR (s.in_charge_3_days IS NULL AND s.created_at <= {})"
            # Open demandes late since: their month counts them as late now.
            " OR (s.is_open AND s.late_at > {} AND s.late_at <= {})",
            since,
            now - timedelta(days=UNDER_DAYS),
            # 3 business days are never shorter than 3 calendar days.
            now - timedelta(days=IN_CHARGE_BUSINESS_DAYS),
            since,
            now,
        )
    ids = [r["id"] for r in ids_rows]
    groups = {r["id"]: r for r in await raw("SELECT id, organisation, network FROM app_group")}
    months: set[date] = set()
    for start in range(0, len(ids), BATCH):
        rows = await raw(_FACTS_SOURCE_SQL, ids[start : start + BATCH])
        facts = [fact_of(r, groups, now) for r in rows]
        months.update(f.month for f in facts)
        await _write_facts(facts, now)
    if full:
        # Months without any fact left (never the case in production) lose their old cells.
        months.update(r["month"] for r in await raw("SELECT DISTINCT month FROM stats_cell"))
    elif not await raw("SELECT 1 FROM stats_combo LIMIT 1"):
        # Combinations added to an existing aggregate: summed from the facts already there.
        months.update(r["month"] for r in await raw("SELECT DISTINCT month FROM stats_demande"))
    await _rebuild_cells(months, now)
    seconds = time.monotonic() - started
    await raw(
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
    rows = await raw("SELECT refreshed_at FROM stats_refresh WHERE id = 1")
    return rows[0]["refreshed_at"] if rows else None
