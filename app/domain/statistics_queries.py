"""Reading the statistics aggregate (app/domain/statistics_aggregate.py): the sums of cells,
combinations or facts matching a selection, as `Totals` whose histograms give exact medians
and p75 (nearest rank) over any union of cells."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import accumulate
from typing import Any
from uuid import UUID

from app.domain.statistics_aggregate import COUNTS, FACT_COLUMNS, raw, sums_sql
from app.policies import StatisticsTerm


def nearest_rank(histogram: Counter | Histogram, p: float) -> int | None:
    """The smallest value with at least a share `p` of the counted values at or below it."""
    if isinstance(histogram, Histogram):
        return histogram.nearest_rank(p)
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


class Histogram:
    """A multiset of delays (tenths of a business day), kept as the sorted parts it was
    summed from (one per cell, combination or group of facts).

    Adding a part appends it, and a percentile is found by bisection over the values: each
    probe counts the values at or below it in every part (`bisect` on the part's values, its
    cumulative counts). A page merging 1 250 cells of ~90 distinct values each thus costs
    ~1 250 list appends and a few thousand bisections, not 110 000 dictionary updates
    (bench/RESULTS-statistics.md: the merge was most of the slow pages' time).
    """

    __slots__ = ("parts", "_total")

    def __init__(self) -> None:
        # (values in increasing order, cumulative counts): parts[i][1][-1] is the part's total.
        self.parts: list[tuple[Sequence[int], list[int]]] = []
        self._total = 0

    def add(self, values: Sequence[int], counts: Sequence[int]) -> None:
        """A part whose values are increasing and distinct (as `sums_sql` returns them)."""
        if not values:
            return
        cumulative = list(accumulate(counts))
        self.parts.append((values, cumulative))
        self._total += cumulative[-1]

    def update(self, other: Histogram) -> None:
        self.parts.extend(other.parts)
        self._total += other._total

    def total(self) -> int:
        return self._total

    def at_most(self, value: int) -> int:
        """How many of the values are `value` or less."""
        n = 0
        for values, cumulative in self.parts:
            i = bisect_right(values, value)
            if i:
                n += cumulative[i - 1]
        return n

    def nearest_rank(self, p: float) -> int | None:
        if not self._total:
            return None
        rank = max(1, math.ceil(p * self._total))
        low = min(values[0] for values, _ in self.parts)
        high = max(values[-1] for values, _ in self.parts)
        # The smallest value with `rank` values at or below it is one of the values: the
        # count only steps up at them.
        while low < high:
            middle = (low + high) // 2
            if self.at_most(middle) >= rank:
                high = middle
            else:
                low = middle + 1
        return low

    def elements(self) -> list[int]:
        """Every value, repeated as often as it was counted (for the tests)."""
        out = []
        for values, cumulative in self.parts:
            previous = 0
            for value, running in zip(values, cumulative, strict=True):
                out.extend([value] * (running - previous))
                previous = running
        return out


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
    first_answer: Histogram = field(default_factory=Histogram)
    resolution: Histogram = field(default_factory=Histogram)

    def add(self, row: dict) -> None:
        for name in SUMMED_COUNTS:
            setattr(self, name, getattr(self, name) + row[name])
        self.first_answer.add(row["first_answer_values"], row["first_answer_counts"])
        self.resolution.add(row["resolution_values"], row["resolution_counts"])

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
        value = getattr(self, which).nearest_rank(p)
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
