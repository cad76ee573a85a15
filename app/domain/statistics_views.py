"""What the statistics pages offer a viewer: filter choices inside their scope, the reading
of the query string, and the columns of every table (the page and its CSV share them)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from app import formatting
from app.domain import reference
from app.domain.statistics import (
    USEFULNESS,
    Filters,
    Row,
    Totals,
    add_months,
    default_months,
)
from app.policies import StatisticsTerm
from app.tables import Group

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_MONTHS = 36
# Above this many groups the group list is not offered (a département narrows it).
MAX_GROUP_CHOICES = 300


def area_label(code: str) -> str:
    if code == "*":
        return "Tous"
    try:
        return reference.departement(code).label
    except KeyError:
        return code


def organisation_label(code: str | None) -> str:
    if not code:
        return "Sans organisme"
    try:
        return reference.organisation(code).short_name
    except KeyError:
        return code


@dataclass
class ScopeOptions:
    """The viewer's scope and the values each filter may take inside it."""

    terms: tuple[StatisticsTerm, ...]
    groups: list[dict]
    areas: list[str]
    organisations: list[str]
    networks: list[str]
    description: list[str] = field(default_factory=list)

    @property
    def group_orgs(self) -> dict[UUID, str | None]:
        return {g["id"]: g["organisation"] for g in self.groups}

    @property
    def group_names(self) -> dict[UUID, str]:
        return {g["id"]: g["name"] for g in self.groups}

    def group_choices(self, filters: Filters | None) -> list[dict] | None:
        """Groups to offer, narrowed by the chosen département and organisation; None when
        there are too many to list."""
        chosen = [
            g
            for g in self.groups
            if filters is None
            or (
                (not filters.area or filters.area in (g["areas"] or []))
                and (not filters.organisation or filters.organisation == g["organisation"])
            )
        ]
        return chosen if len(chosen) <= MAX_GROUP_CHOICES else None


def _groups_condition(terms: Iterable[StatisticsTerm]) -> tuple[str, list[Any]]:
    parts, args = [], []
    for t in terms:
        conditions = []
        if t.group:
            conditions.append("g.id = {}")
            args.append(t.group)
        if t.organisation:
            conditions.append("g.organisation = {}")
            args.append(t.organisation)
        if t.areas is not None:
            conditions.append("g.areas && {}::varchar[]")
            args.append(sorted(t.areas))
        parts.append("(" + (" AND ".join(conditions) or "TRUE") + ")")
    return " OR ".join(parts) or "FALSE", args


async def load_options(terms: tuple[StatisticsTerm, ...]) -> ScopeOptions:
    condition, args = _groups_condition(terms)
    groups = await Group.raw(
        "SELECT g.id, g.name, g.organisation, g.areas, g.network FROM app_group g"
        f" WHERE {condition} ORDER BY g.name, g.id",
        *args,
    )
    by_id = {g["id"]: g for g in groups}
    if any(t.areas is None and t.group is None for t in terms):
        areas = [d.code for d in reference.DEPARTEMENTS]
    else:
        found: set[str] = set()
        for t in terms:
            found |= set(t.areas or ())
            if t.group in by_id:
                found |= set(by_id[t.group]["areas"] or ())
        areas = sorted(found)
    if any(t.organisation is None for t in terms):
        organisations = [o.code for o in reference.ORGANISATIONS]
    else:
        organisations = sorted({t.organisation for t in terms})
    networks = sorted({g["network"] for g in groups if g["network"]})
    description = []
    for t in terms:
        if t.group:
            description.append(f"groupe {by_id[t.group]['name']}" if t.group in by_id else "")
        elif t.areas is None and t.organisation is None:
            description.append("national")
        else:
            where = ", ".join(area_label(a) for a in sorted(t.areas)) if t.areas else "France"
            who = organisation_label(t.organisation) if t.organisation else "tous organismes"
            description.append(f"{who} — {where}")
    return ScopeOptions(
        terms=terms,
        groups=groups,
        areas=areas,
        organisations=organisations,
        networks=networks,
        description=[d for d in description if d],
    )


class OutOfScope(Exception):
    """A filter value the viewer's scope does not offer (an edited URL)."""


def _month(value: str) -> date | None:
    match = MONTH_RE.match(value.strip())
    if not match:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_filters(
    params: Mapping[str, str], options: ScopeOptions, today: date | None = None
) -> tuple[Filters | None, dict[str, str], dict[str, str]]:
    """(filters or None when invalid, the values as typed, French errors by field).

    A département, organisation, group or network outside the scope's choices raises
    `OutOfScope`: filters only ever narrow, and an edited URL is refused outright.
    """
    first_default, last_default = default_months(today)
    values = {
        "du": params.get("du", "").strip() or first_default.strftime("%Y-%m"),
        "au": params.get("au", "").strip() or last_default.strftime("%Y-%m"),
        "departement": params.get("departement", "").strip(),
        "organisation": params.get("organisation", "").strip(),
        "groupe": params.get("groupe", "").strip(),
        "reseau": params.get("reseau", "").strip(),
    }
    errors: dict[str, str] = {}
    first, last = _month(values["du"]), _month(values["au"])
    for key, parsed in (("du", first), ("au", last)):
        if parsed is None:
            errors[key] = "Indiquez un mois au format AAAA-MM, par exemple 2026-01."
    if first and last:
        if first > last:
            errors["au"] = "Le mois de fin doit être le même que le mois de début ou après."
        elif add_months(first, MAX_MONTHS - 1) < last:
            errors["au"] = f"Choisissez une période d'au plus {MAX_MONTHS} mois."
    if values["departement"] and values["departement"] not in options.areas:
        raise OutOfScope
    if values["organisation"] and values["organisation"] not in options.organisations:
        raise OutOfScope
    if values["reseau"] and values["reseau"] not in options.networks:
        raise OutOfScope
    group = None
    if values["groupe"]:
        try:
            group = UUID(values["groupe"])
        except ValueError:
            raise OutOfScope from None
        if group not in options.group_orgs:
            raise OutOfScope
    if errors:
        return None, values, errors
    return (
        Filters(
            first_month=first,
            last_month=last,
            area=values["departement"] or None,
            organisation=values["organisation"] or None,
            group=group,
            network=values["reseau"] or None,
        ),
        values,
        errors,
    )


# --- table columns, shared by the pages and the CSV ----------------------------------------

FIGURE_HEADER = (
    "Demandes créées",
    "Procédure standard",
    "Résolues en moins de 7 jours",
    "Part résolue en moins de 7 jours",
    "Prises en charge en 3 jours ouvrés",
    "Part prise en charge en 3 jours ouvrés",
    "Première réponse, médiane (jours ouvrés)",
    "Première réponse, 75e centile (jours ouvrés)",
    "Résolution, médiane (jours ouvrés)",
    "Résolution, 75e centile (jours ouvrés)",
    *(f"Utile : {label}" for _code, label in USEFULNESS),
)


def figure_values(t: Totals) -> list[Any]:
    return [
        t.demandes,
        t.irrelevant,
        t.under_7_yes,
        t.under_7_share,
        t.in_charge_yes,
        t.in_charge_share,
        t.delay("first_answer", 0.5),
        t.delay("first_answer", 0.75),
        t.delay("resolution", 0.5),
        t.delay("resolution", 0.75),
        *(getattr(t, f"useful_{code}") for code, _label in USEFULNESS),
    ]


# The page shows fewer columns than the CSV, to fit 1024 px.
PAGE_HEADER = (
    "Demandes",
    "Résolues en moins de 7 jours",
    "Prises en charge en 3 jours ouvrés",
    "Première réponse (médiane)",
    "Résolution (médiane)",
    "Utile : Oui",
)


def page_values(t: Totals) -> list[str]:
    return [
        str(t.demandes),
        formatting.percent(t.under_7_share),
        formatting.percent(t.in_charge_share),
        formatting.business_days(t.delay("first_answer", 0.5)),
        formatting.business_days(t.delay("resolution", 0.5)),
        formatting.percent(t.useful_share("oui")),
    ]


# Tables by organisation × département and by département: the delays as "median / p75".
AREA_PAGE_HEADER = (
    "Demandes",
    "Résolues en moins de 7 jours",
    "Prises en charge en 3 jours ouvrés",
    "Première réponse, médiane / 75e centile (jours ouvrés)",
    "Résolution, médiane / 75e centile (jours ouvrés)",
    "Utile : Oui",
)


def _delays(t: Totals, which: str) -> str:
    """ "1,0 / 2,5" (the unit is in the header, to keep the table within 1024 px)."""
    return " / ".join(
        "–" if v is None else f"{v:.1f}".replace(".", ",")
        for v in (t.delay(which, 0.5), t.delay(which, 0.75))
    )


def area_page_values(t: Totals) -> list[str]:
    return [
        str(t.demandes),
        formatting.percent(t.under_7_share),
        formatting.percent(t.in_charge_share),
        _delays(t, "first_answer"),
        _delays(t, "resolution"),
        formatting.percent(t.useful_share("oui")),
    ]


def month_rows(months: list[tuple[date, Totals]]) -> list[tuple[list[str], Totals]]:
    return [([formatting.month_fr(m), m.strftime("%Y-%m")], t) for m, t in months]


def organisation_rows(rows: list[Row]) -> list[tuple[list[str], Totals]]:
    return [
        ([organisation_label(org), area_label(area), org or "", area], r.totals)
        for r in rows
        for org, area in [r.labels]
    ]
