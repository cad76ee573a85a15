"""Dates, ages and sizes as French readers expect them (Europe/Paris), for pages."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app import clock

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    """Today in France: a consent given at 00:30 in Paris is not dated the day before."""
    return clock.now().astimezone(PARIS).date()


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    return value.strftime("%d/%m/%Y")


def parse_date(value: str) -> date | None:
    """A date typed in a form (yyyy-mm-dd from a date input, or jj/mm/aaaa); None if empty."""
    value = value.strip()
    if not value:
        return None
    if "/" in value:
        day, month, year = value.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(value)


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    # Fields rather than strftime, five times faster: a long thread formats one per entry.
    return f"{local.day:02d}/{local.month:02d}/{local.year} à {local.hour:02d}:{local.minute:02d}"


def age(value: datetime) -> str:
    """ "il y a 3 jours", as in the inbox."""
    seconds = max(0, (clock.now() - value).total_seconds())
    if seconds < 3600:
        minutes = int(seconds // 60)
        return "à l'instant" if minutes < 1 else f"il y a {minutes} min"
    if seconds < 86400:
        return f"il y a {int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return "il y a 1 jour" if days == 1 else f"il y a {days} jours"


def nir(value: str) -> str:
    """A NIR as printed on a carte Vitale: 1 85 03 75 118 001 64 (sex, year, month,
    département, commune, order, key); anything else as it was typed."""
    compact = value.replace(" ", "")
    if len(compact) != 15:
        return value
    parts = (compact[0], compact[1:3], compact[3:5], compact[5:7], compact[7:10], compact[10:13])
    return " ".join((*parts, compact[13:]))


def usager_value(code: str, value: str) -> str:
    """An usager field as pages show it (stored as typed, validated)."""
    return nir(value) if code == "nir" else value


def size(value: int) -> str:
    if value < 1024 * 1024:
        return f"{max(1, round(value / 1024))} Ko"
    return f"{value / (1024 * 1024):.1f} Mo".replace(".", ",")


def percent(value: float | None) -> str:
    """0.4 → "40 %" (French spacing); no data → "–"."""
    if value is None:
        return "–"
    return f"{round(value * 100)}\u00a0%"


def business_days(value: float | None) -> str:
    """3.1 → "3,1 j. ouvrés"; no data → "–"."""
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", ",") + "\u00a0j.\u00a0ouvrés"


MONTHS_FR = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip


def month_fr(value: date) -> str:
    return f"{MONTHS_FR[value.month - 1]} {value.year}"
