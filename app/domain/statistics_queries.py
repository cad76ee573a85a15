"""Reading the statistics aggregate (app/domain/statistics_aggregate.py): the sums of cells,
combinations or facts matching a selection, as `Totals` whose histograms give exact medians
and p75 (nearest rank) over any union of cells."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from uuid import UUID

from app.domain.statistics_aggregate import COUNTS, FACT_COLUMNS, raw, sums_sql
from app.policies import StatisticsTerm


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
SUMMED_COUNTS = COUNTS


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
    late: int = 0
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


def merge(into: Totals, other: Totals) -> None:
    for name in SUMMED_COUNTS:
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.first_answer.update(other.first_answer)
    into.resolution.update(other.resolution)


def group_rows(rows: Iterable[dict], key: Any) -> dict[Any, Totals]:
    grouped: dict[Any, Totals] = {}
    for row in rows:
        grouped.setdefault(key(row), Totals()).add(row)
    return grouped


def merge_grouped(into: dict[Any, Totals], other: dict[Any, Totals]) -> None:
    for key, totals in other.items():
        merge(into.setdefault(key, Totals()), totals)


class Where:
    """A SQL condition on facts or combinations with its arguments (Piccolo's `{}`)."""

    def __init__(self, first_month: date | None = None, last_month: date | None = None) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []
        if first_month is not None:
            self.add("month BETWEEN {} AND {}", first_month, last_month)

    def add(self, sql: str, *args: Any) -> Where:
        self.parts.append(sql)
        self.args.extend(args)
        return self

    def _alternatives(self, terms: list[StatisticsTerm]) -> str:
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
        return "(" + (" OR ".join(alternatives) or "FALSE") + ")"

    def terms(self, terms: list[StatisticsTerm]) -> Where:
        self.parts.append(self._alternatives(terms))
        # Implied by the alternatives, but usable by the indexes ((month, area), GIN).
        if terms and all(t.areas is not None for t in terms):
            self.parts.append("area = ANY({})")
            self.args.append(sorted(set().union(*(t.areas for t in terms))))
        if terms and all(t.organisation for t in terms):
            self.parts.append("organisations && {}::varchar[]")
            self.args.append(sorted({t.organisation for t in terms}))
        return self

    def excluding(self, terms: list[StatisticsTerm]) -> Where:
        """Not matched by any of `terms` (whose demandes are counted elsewhere)."""
        if terms:
            self.parts.append("NOT " + self._alternatives(terms))
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


async def cell_rows(
    first_month: date,
    last_month: date,
    *,
    dim: str,
    key: str | None,
    areas: list[str] | None,
    per_area: bool = False,
) -> list[dict]:
    """Cells of one dimension (one value, or all of them when `key` is None) in the months
    and `areas` (None: all of them, summed unless `per_area`). Unsummed: merging the
    histograms in Python costs less than in SQL (tested at 200 k demandes)."""
    where = Where(first_month, last_month).add("dim = {}", dim)
    if key is not None:
        where.add("key = {}", key)
    if areas is not None:
        where.add("area = ANY({})", areas)
    else:
        where.add("area <> '*'" if per_area else "area = '*'")
    return await raw(f"SELECT * FROM stats_cell WHERE {where.sql}", *where.args)


def combo_where(
    terms: list[StatisticsTerm], group: UUID | None, per_area: bool, months: tuple = ()
) -> Where:
    """Combinations matching `terms` (their group, if any, is `group`): over all demandes
    per département or over all of them (`*`), or those of one group (per département)."""
    where = Where(*months).add("grp = {}", str(group) if group else "")
    where.terms([replace(t, group=None) for t in terms])
    return where.add("area <> '*'" if per_area or group else "area = '*'")


async def combo_rows(
    first_month: date,
    last_month: date,
    terms: list[StatisticsTerm],
    *,
    per_area: bool,
    group: UUID | None = None,
) -> list[dict]:
    """Combinations of organisations × networks in the months (see `combo_where`)."""
    where = combo_where(terms, group, per_area, (first_month, last_month))
    return await raw(f"SELECT * FROM stats_combo WHERE {where.sql}", *where.args)


async def fact_sums(
    keys: list[str], where: Where, *, by_org: bool = False, area: str = "area"
) -> list[dict]:
    """Facts matching `where` summed per `keys`; `by_org` adds `org`, once per organisation
    of each demande, and `area` may name another expression for the area column (`'*'`)."""
    extra = ", unnest(organisations) org" if by_org else ""
    source = (
        f"SELECT {'org, ' if by_org else ''}{area} AS area_key, {FACT_COLUMNS}"
        f" FROM stats_demande{extra} WHERE {where.sql}"
    )
    keys = ["area_key" if k == "area" else k for k in keys]
    rows = await raw(sums_sql(source, keys), *where.args)
    for row in rows:
        if "area_key" in row:
            row["area"] = row.pop("area_key")
    return rows
