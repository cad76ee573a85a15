"""The constant-time calendar agrees with a day-by-day walk (hours between, adding days)."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.business_days import (
    _local_wall,
    _zone,
    add_business_days,
    business_hours_between,
    business_hours_walked,
    is_business_day,
)

# Metropolitan, Corsica, Alsace-Moselle (Good Friday, 26 December) and every overseas code.
DEPARTEMENTS = [
    "75",
    "2A",
    "57",
    "67",
    "68",
    "971",
    "972",
    "973",
    "974",
    "975",
    "976",
    "977",
    "978",
]


# Spans cross years (and the calendar's origin year 2000) and DST changes in both directions.
instants = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(start=instants, end=instants, departement=st.sampled_from(DEPARTEMENTS))
def test_constant_time_hours_match_the_day_walk(
    start: datetime, end: datetime, departement: str
) -> None:
    assert business_hours_between(start, end, departement) == business_hours_walked(
        start, end, departement
    )


@settings(max_examples=200, deadline=None)
@given(
    start=instants,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    departement=st.sampled_from(DEPARTEMENTS),
)
def test_short_spans_match_the_day_walk(start: datetime, span: timedelta, departement: str) -> None:
    # Short spans hit the same-day, adjacent-day and holiday-edge cases far more often.
    end = start + span
    assert business_hours_between(start, end, departement) == business_hours_walked(
        start, end, departement
    )


def test_a_span_over_the_moselle_good_friday_counts_one_day_less_than_paris() -> None:
    start = datetime(2026, 3, 30, 10, tzinfo=UTC)  # Monday before Easter 2026
    end = datetime(2026, 4, 10, 10, tzinfo=UTC)
    assert (
        business_hours_between(start, end, "75") - business_hours_between(start, end, "57") == 24.0
    )
    assert date(2026, 4, 3).weekday() == 4  # the Good Friday that differs


def walked_add(start: datetime, days: int, departement: str) -> datetime:
    """Reference: the former add_business_days, stepping to the next business day ``days`` times."""
    zone = _zone(departement)
    wall = _local_wall(start, zone)
    day = wall.date()
    time_of_day = wall - datetime.combine(day, time())
    if not is_business_day(day, departement):
        time_of_day = timedelta(0)
        day += timedelta(days=1)
        while not is_business_day(day, departement):
            day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while not is_business_day(day, departement):
            day += timedelta(days=1)
    return (datetime.combine(day, time()) + time_of_day).replace(tzinfo=zone).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    days=st.integers(min_value=0, max_value=400),
    departement=st.sampled_from(DEPARTEMENTS),
)
def test_adding_business_days_matches_the_day_walk(
    start: datetime, days: int, departement: str
) -> None:
    assert add_business_days(start, days, departement) == walked_add(start, days, departement)


async def test_the_app_loads_the_holiday_rules_at_start_up():
    """The rules' first load (~45 ms of CPU) happens before any request: an export or a page
    computing a délai would otherwise hold the event loop that long (bench/RESULTS.md)."""
    from litestar.testing import AsyncTestClient

    from app.domain import business_days
    from app.main import create_app

    business_days._holidays.cache_clear()
    async with AsyncTestClient(create_app(with_pool=False)):
        assert business_days._holidays.cache_info().currsize >= 1
