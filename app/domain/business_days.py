"""Business-day rules: the single source of truth for délais and "en souffrance".

Semantics:

- Time is measured in the département's local civil time zone (Europe/Paris for
  metropolitan France including 2A/2B, the local zone overseas).
- A business day is a local calendar day, Monday to Friday, that is not a public
  holiday for the département (national holidays plus local ones: Alsace-Moselle,
  DOM, and the collectivités 975/977/978), as given by the ``holidays`` library.
- Business time runs at 24 hours per business day and stops on other days.
  Within a day it is read on the local *wall clock*: a business day always counts
  24 business hours, even a 23 h or 25 h DST day, so adding N business days keeps
  the local wall-clock time. A wall time that does not exist (DST gap) resolves
  with ``fold=0`` (PEP 495), i.e. one hour later in real time. Around a DST fold,
  business hours never go negative.
- ``add_business_days`` returns the *last* instant at which exactly ``days * 24``
  business hours have elapsed: from then on, more have elapsed. Started on a
  non-business day, business time starts at the next business day's 00:00.
  So a demande is late when ``now > late_at(...)``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

FIRST_ANSWER_BUSINESS_DAYS = 3
FOLLOW_UP_BUSINESS_DAYS = 15
# CGU 1.3.4: the experts are brought in when the délai de réponse is well past.
EXPERTS_FIRST_ANSWER_BUSINESS_DAYS = 5
EXPERTS_FOLLOW_UP_BUSINESS_DAYS = 15

_PARIS = ZoneInfo("Europe/Paris")

# Overseas codes: local time zone and ``holidays.France`` subdivision.
_OVERSEAS: dict[str, tuple[ZoneInfo, str]] = {
    "971": (ZoneInfo("America/Guadeloupe"), "971"),
    "972": (ZoneInfo("America/Martinique"), "972"),
    "973": (ZoneInfo("America/Cayenne"), "973"),
    "974": (ZoneInfo("Indian/Reunion"), "974"),
    "975": (ZoneInfo("America/Miquelon"), "PM"),
    "976": (ZoneInfo("Indian/Mayotte"), "976"),
    "977": (ZoneInfo("America/St_Barthelemy"), "BL"),
    "978": (ZoneInfo("America/Marigot"), "MF"),
}

# Metropolitan subdivisions with local holidays (Good Friday, 26 December).
# The library groups Bas-Rhin and Haut-Rhin as "6AE" (Collectivité européenne d'Alsace).
_METROPOLITAN_SUBDIV = {"57": "57", "67": "6AE", "68": "6AE"}

# "20" has not been a département since Corsica was split in 1976.
_METROPOLITAN = frozenset([f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"])


def _normalize(departement: str) -> str:
    code = str(departement).strip().upper()
    if code not in _METROPOLITAN and code not in _OVERSEAS:
        raise ValueError(f"Unknown département code: {departement!r}")
    return code


def _zone(code: str) -> ZoneInfo:
    return _OVERSEAS[code][0] if code in _OVERSEAS else _PARIS


def _subdiv(code: str) -> str | None:
    return _OVERSEAS[code][1] if code in _OVERSEAS else _METROPOLITAN_SUBDIV.get(code)


@lru_cache(maxsize=512)
def _holidays(code: str, year: int) -> Mapping[date, str]:
    calendar = holidays.France(subdiv=_subdiv(code), years=year, categories=holidays.PUBLIC)
    # Read-only copy: the cached value is shared by every caller.
    return MappingProxyType(dict(calendar))


def warm() -> None:
    """Load the holiday rules now: the `holidays` package reads its French rules the first
    time a calendar is asked for, ~45 ms of CPU in one go (bench/RESULTS.md, the export's
    longest event-loop block). Called at start-up, so no request pays for it."""
    _holidays("75", date.today().year)


def holidays_for(departement: str, year: int) -> Mapping[date, str]:
    """Public holidays (date -> name) applying to the département in ``year``."""
    return _holidays(_normalize(departement), year)


def _is_business_day(day: date, code: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(code, day.year)


def is_business_day(day: date, departement: str) -> bool:
    return _is_business_day(day, _normalize(departement))


# Cumulative calendar, per département: ``counts[i]`` is the number of business days from
# ``first`` (a 1 January) up to, not including, the day of ordinal ``first + i``. The count
# between two dates is then two lookups and a subtraction. Whole years are added on demand
# (holidays are per year); the table is replaced, never mutated, so readers need no lock.
_CALENDARS: dict[str, tuple[int, list[int]]] = {}


def _calendar(code: str, first: date, last: date) -> tuple[int, list[int]]:
    """The département's table, covering at least ``first`` to ``last`` (inclusive)."""
    cached = _CALENDARS.get(code)
    if cached is not None:
        origin, counts = cached
        if origin <= first.toordinal() and last.toordinal() + 1 < origin + len(counts):
            return cached
        first_year = min(first.year, date.fromordinal(origin).year)
        last_year = max(last.year, date.fromordinal(origin + len(counts) - 2).year)
    else:
        first_year, last_year = first.year, last.year
    origin = date(first_year, 1, 1).toordinal()
    counts = [0]
    for ordinal in range(origin, date(last_year, 12, 31).toordinal() + 1):
        counts.append(counts[-1] + _is_business_day(date.fromordinal(ordinal), code))
    table = (origin, counts)
    _CALENDARS[code] = table
    return table


def _local_wall(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("An aware datetime is required")
    return moment.astimezone(zone).replace(tzinfo=None)


def add_business_days(start: datetime, days: int, departement: str) -> datetime:
    """Instant (in UTC) at which ``days * 24`` business hours have elapsed since ``start``."""
    if days < 0:
        raise ValueError("days must be >= 0")
    code = _normalize(departement)
    zone = _zone(code)
    wall = _local_wall(start, zone)
    day = wall.date()
    # Enough calendar for ``days`` business days ahead; widened below if holidays run past it.
    horizon = day + timedelta(days=days * 2 + 14)
    while True:
        origin, counts = _calendar(code, day, horizon)
        index = day.toordinal() - origin
        if counts[index + 1] > counts[index]:
            time_of_day = wall - datetime.combine(day, time())
            target = counts[index + 1] + days
        else:
            time_of_day = timedelta(0)
            target = counts[index + 1] + days + 1
        # counts[i] first reaches ``target`` just after the target business day (index i - 1).
        found = bisect_left(counts, target, index + 1)
        if found < len(counts):
            day = date.fromordinal(origin + found - 1)
            break
        horizon += timedelta(days=days + 366)
    end_wall = datetime.combine(day, time()) + time_of_day
    return end_wall.replace(tzinfo=zone).astimezone(UTC)


def business_hours_between(start: datetime, end: datetime, departement: str) -> float:
    """Business hours elapsed from ``start`` to ``end`` (0 if ``end <= start``).

    Constant time: the whole days in between are read from the cumulative calendar.
    """
    return business_hours_since(start, (end,), departement)[0]


def business_hours_since(
    start: datetime, ends: Sequence[datetime | None], departement: str
) -> list[float | None]:
    """``business_hours_between(start, end)`` for each end (None stays None), the start's
    conversion done once: a demande's two délais start at its creation (`state.delay_tenths`).

    Wall-clock times of day are read as integer microseconds from the aware local times
    (no naive copy: `datetime.replace` was the largest single cost of the export).
    """
    code = _normalize(departement)
    zone = _zone(code)
    s_day = None
    out: list[float | None] = []
    for end in ends:
        if end is None:
            out.append(None)
            continue
        if end <= start:
            out.append(0.0)
            continue
        if s_day is None:
            s = _local(start, zone)
            s_day, s_time = s.date(), _time_of_day(s)
        e = _local(end, zone)
        e_day = e.date()
        origin, counts = _calendar(code, s_day, e_day)
        s_index, e_index = s_day.toordinal() - origin, e_day.toordinal() - origin
        s_business = counts[s_index + 1] > counts[s_index]
        if s_day == e_day:
            total = _time_of_day(e) - s_time if s_business else 0
        else:
            total = (counts[e_index] - counts[s_index + 1]) * _DAY_US
            if s_business:
                total += _DAY_US - s_time
            if counts[e_index + 1] > counts[e_index]:
                total += _time_of_day(e)
        # Wall-clock reading can run backwards inside a DST fold.
        out.append(max(total / 1_000_000 / 3600, 0.0))
    return out


_DAY_US = 86_400_000_000


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("An aware datetime is required")
    return moment.astimezone(zone)


def _time_of_day(moment: datetime) -> int:
    """Microseconds since local midnight, on the wall clock."""
    return (
        (moment.hour * 60 + moment.minute) * 60 + moment.second
    ) * 1_000_000 + moment.microsecond


def business_hours_walked(start: datetime, end: datetime, departement: str) -> float:
    """The definition of ``business_hours_between``, visiting every day in between.

    Kept as the executable specification: the property test and bench/ compare the
    constant-time version against it. Not for production paths (linear in the span).
    """
    code = _normalize(departement)
    zone = _zone(code)
    if end <= start:
        return 0.0
    s, e = _local_wall(start, zone), _local_wall(end, zone)
    s_day, e_day = s.date(), e.date()
    if s_day == e_day:
        total = e - s if _is_business_day(s_day, code) else timedelta(0)
    else:
        total = timedelta(0)
        if _is_business_day(s_day, code):
            total += timedelta(days=1) - (s - datetime.combine(s_day, time()))
        day = s_day + timedelta(days=1)
        while day < e_day:
            if _is_business_day(day, code):
                total += timedelta(days=1)
            day += timedelta(days=1)
        if _is_business_day(e_day, code):
            total += e - datetime.combine(e_day, time())
    return max(total.total_seconds() / 3600, 0.0)


def late_at(
    created_at: datetime, last_answer_by_other_at: datetime | None, departement: str
) -> datetime:
    """When the demande becomes "en souffrance" (late once ``now > late_at``)."""
    if last_answer_by_other_at is None:
        return add_business_days(created_at, FIRST_ANSWER_BUSINESS_DAYS, departement)
    return add_business_days(last_answer_by_other_at, FOLLOW_UP_BUSINESS_DAYS, departement)


def experts_due(
    created_at: datetime, last_answer_by_other_at: datetime | None, departement: str
) -> tuple[str, datetime]:
    """Why and from when the experts are added to a stalled demande (once ``now >`` it).

    "no_answer": nobody but the creator answered within 5 business days; "stalled": the last
    such answer is older than 15 business days.
    """
    if last_answer_by_other_at is None:
        return "no_answer", add_business_days(
            created_at, EXPERTS_FIRST_ANSWER_BUSINESS_DAYS, departement
        )
    return "stalled", add_business_days(
        last_answer_by_other_at, EXPERTS_FOLLOW_UP_BUSINESS_DAYS, departement
    )
