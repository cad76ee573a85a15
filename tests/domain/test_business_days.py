from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.business_days import (
    FIRST_ANSWER_BUSINESS_DAYS,
    FOLLOW_UP_BUSINESS_DAYS,
    add_business_days,
    business_hours_between,
    business_hours_since,
    business_hours_walked,
    holidays_for,
    is_business_day,
    late_at,
)

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def reunion(*args: int) -> datetime:
    return datetime(*args, tzinfo=REUNION)


@pytest.mark.parametrize(
    ("day", "departement", "expected"),
    [
        (date(2026, 4, 6), "75", False),  # Easter Monday
        (date(2026, 4, 7), "75", True),
        (date(2028, 5, 1), "75", False),  # 1 May on a Monday
        (date(2026, 4, 3), "57", False),  # Good Friday, Moselle
        (date(2026, 4, 3), "67", False),  # Good Friday, Bas-Rhin
        (date(2026, 4, 3), "68", False),  # Good Friday, Haut-Rhin
        (date(2026, 4, 3), "75", True),  # Good Friday is worked in Paris
        (date(2026, 5, 8), "75", False),
        (date(2026, 7, 14), "75", False),
        (date(2025, 12, 25), "75", False),
        (date(2025, 12, 25), "57", False),
        (date(2025, 12, 25), "974", False),
        (date(2025, 12, 26), "75", True),
        (date(2025, 12, 26), "57", False),  # Saint-Étienne, Alsace-Moselle only
        (date(2025, 12, 26), "67", False),
        (date(2024, 12, 20), "974", False),  # Abolition of slavery, Réunion
        (date(2024, 12, 20), "75", True),
        (date(2026, 5, 14), "75", False),  # Ascension
        (date(2026, 5, 25), "75", False),  # Whit Monday
        (date(2026, 11, 11), "2A", False),
        (date(2026, 11, 7), "75", False),  # Saturday
        (date(2026, 11, 8), "01", False),  # Sunday
        (date(2026, 11, 9), "01", True),
    ],
)
def test_is_business_day(day: date, departement: str, expected: bool) -> None:
    assert is_business_day(day, departement) is expected


def test_holidays_for_includes_local_holidays() -> None:
    assert date(2026, 12, 26) in holidays_for("57", 2026)
    assert date(2026, 12, 26) not in holidays_for("75", 2026)
    assert date(2026, 12, 20) in holidays_for("974", 2026)


@pytest.mark.parametrize(
    ("start", "days", "departement", "expected"),
    [
        # Across a weekend.
        (paris(2026, 3, 6, 10), 3, "75", paris(2026, 3, 11, 10)),
        # Starting on a weekend: business time starts Monday 00:00.
        (paris(2026, 3, 7, 10), 3, "75", paris(2026, 3, 12)),
        # Starting on a holiday (Easter Monday).
        (paris(2026, 4, 6, 15), 1, "75", paris(2026, 4, 8)),
        # Across Easter Monday; and Good Friday too in Moselle.
        (paris(2026, 4, 3, 10), 1, "75", paris(2026, 4, 7, 10)),
        (paris(2026, 4, 2, 10), 1, "75", paris(2026, 4, 3, 10)),
        (paris(2026, 4, 2, 10), 1, "57", paris(2026, 4, 7, 10)),
        # 1 May 2028 is a Monday.
        (paris(2028, 4, 28, 10), 1, "75", paris(2028, 5, 2, 10)),
        # 8 May 2026 is a Friday.
        (paris(2026, 5, 7, 10), 1, "75", paris(2026, 5, 11, 10)),
        # 14 July 2026 is a Tuesday.
        (paris(2026, 7, 13, 10), 1, "75", paris(2026, 7, 15, 10)),
        # Christmas week 2025: 26 December only off in Alsace-Moselle.
        (paris(2025, 12, 24, 10), 1, "75", paris(2025, 12, 26, 10)),
        (paris(2025, 12, 24, 10), 1, "67", paris(2025, 12, 29, 10)),
        # Ascension (Thu) and Whit Monday.
        (paris(2026, 5, 13, 10), 1, "75", paris(2026, 5, 15, 10)),
        (paris(2026, 5, 22, 10), 1, "75", paris(2026, 5, 26, 10)),
        # Réunion's 20 December, measured in Réunion time.
        (reunion(2024, 12, 19, 10), 1, "974", reunion(2024, 12, 23, 10)),
        (paris(2024, 12, 19, 10), 1, "75", paris(2024, 12, 20, 10)),
        # Friday 22:00 UTC is already Saturday 02:00 in Réunion.
        (datetime(2026, 3, 6, 22, tzinfo=UTC), 1, "974", reunion(2026, 3, 10)),
        # Zero days from a business instant is the instant itself.
        (paris(2026, 3, 9, 10), 0, "75", paris(2026, 3, 9, 10)),
    ],
)
def test_add_business_days(
    start: datetime, days: int, departement: str, expected: datetime
) -> None:
    result = add_business_days(start, days, departement)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Spring forward on Sunday 2026-03-29: same wall-clock time, one hour less.
        (paris(2026, 3, 27, 10), paris(2026, 3, 30, 10)),
        # Fall back on Sunday 2026-10-25: same wall-clock time, one hour more.
        (paris(2026, 10, 23, 10), paris(2026, 10, 26, 10)),
        # Starting during the DST night itself.
        (paris(2026, 3, 29, 1, 30), paris(2026, 3, 31)),
    ],
)
def test_dst_keeps_local_wall_clock(start: datetime, expected: datetime) -> None:
    result = add_business_days(start, 1, "75")
    assert result == expected
    assert result.astimezone(PARIS).hour == expected.hour
    assert business_hours_between(start, result, "75") == 24


def test_first_answer_edge_across_armistice() -> None:
    # Tue 10 Nov 09:00: 15 h on Tue, Wed 11 off, 24 h Thu, 24 h Fri, 9 h Mon.
    created = paris(2026, 11, 10, 9)
    deadline = late_at(created, None, "75")
    assert deadline == paris(2026, 11, 16, 9)
    hour = timedelta(hours=1)
    # Late means strictly more than 72 business hours, i.e. now > late_at.
    assert business_hours_between(created, deadline - hour, "75") == 71
    assert business_hours_between(created, deadline, "75") == 72
    assert business_hours_between(created, deadline + hour, "75") == 73


@pytest.mark.parametrize(
    ("answered", "expected"),
    [
        (paris(2026, 6, 1, 10), paris(2026, 6, 22, 10)),
        # 14 July skipped.
        (paris(2026, 7, 1, 10), paris(2026, 7, 23, 10)),
    ],
)
def test_follow_up_rule(answered: datetime, expected: datetime) -> None:
    created = answered - timedelta(days=1)
    assert late_at(created, answered, "75") == expected
    hours = business_hours_between(answered, expected, "75")
    assert hours == FOLLOW_UP_BUSINESS_DAYS * 24


def test_first_answer_rule_uses_creation_date() -> None:
    created = paris(2026, 6, 1, 10)
    expected = add_business_days(created, FIRST_ANSWER_BUSINESS_DAYS, "75")
    assert late_at(created, None, "75") == expected == paris(2026, 6, 4, 10)


@pytest.mark.parametrize(
    ("start", "end", "departement", "expected"),
    [
        (paris(2026, 3, 9, 10), paris(2026, 3, 9, 12, 30), "75", 2.5),
        (paris(2026, 3, 6, 18), paris(2026, 3, 9, 6), "75", 12),  # weekend
        (paris(2026, 3, 7, 10), paris(2026, 3, 8, 10), "75", 0),  # within weekend
        (paris(2026, 4, 2, 12), paris(2026, 4, 7, 12), "57", 24),
        (paris(2026, 4, 2, 12), paris(2026, 4, 7, 12), "75", 48),
        (paris(2026, 3, 9, 12), paris(2026, 3, 9, 10), "75", 0),  # end before start
    ],
)
def test_business_hours_between(
    start: datetime, end: datetime, departement: str, expected: float
) -> None:
    assert business_hours_between(start, end, departement) == expected


@pytest.mark.parametrize(
    ("start", "days", "departement"),
    [
        (paris(2026, 11, 10, 9, 17), 3, "75"),
        (paris(2025, 12, 23, 23, 59), 5, "57"),
        (paris(2026, 3, 27, 8), 15, "75"),
        (reunion(2024, 12, 18, 14), 15, "974"),
        (datetime(2026, 5, 1, 3, tzinfo=UTC), 15, "2B"),
    ],
)
def test_round_trip(start: datetime, days: int, departement: str) -> None:
    end = add_business_days(start, days, departement)
    assert business_hours_between(start, end, departement) == days * 24


@pytest.mark.parametrize("departement", ["20", "99", "000", "", "2C", "988", "Paris"])
def test_unknown_departement_raises(departement: str) -> None:
    with pytest.raises(ValueError):
        is_business_day(date(2026, 1, 5), departement)
    with pytest.raises(ValueError):
        add_business_days(paris(2026, 1, 5), 1, departement)
    with pytest.raises(ValueError):
        late_at(paris(2026, 1, 5), None, departement)


@pytest.mark.parametrize(
    "departement", ["01", "2A", "2B", "95", "971", "972", "973", "975", "976", "977", "978"]
)
def test_known_departements_accepted(departement: str) -> None:
    assert is_business_day(date(2026, 1, 1), departement) is False


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError):
        add_business_days(datetime(2026, 1, 5), 1, "75")


def test_negative_days_rejected() -> None:
    with pytest.raises(ValueError):
        add_business_days(paris(2026, 1, 5), -1, "75")


def test_hours_since_one_start_equal_the_hours_between_each_pair():
    start = datetime(2026, 3, 27, 16, 30, tzinfo=UTC)  # a Friday, DST change that weekend
    ends = [
        None,
        start - timedelta(hours=1),
        start + timedelta(hours=2),
        start + timedelta(days=3, hours=5),
        start + timedelta(days=40),
    ]
    for area in ("75", "57", "971"):
        got = business_hours_since(start, ends, area)
        assert got[0] is None
        assert got[1:] == [business_hours_walked(start, e, area) for e in ends[1:]]
        assert got[1] == 0.0
