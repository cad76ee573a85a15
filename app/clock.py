"""The current time, in one place, so tests can move it (login-link expiry, lateness)."""

from datetime import UTC, datetime

_offset_seconds = 0.0


def now() -> datetime:
    """Aware UTC now, shifted by the test offset if any."""
    from datetime import timedelta

    return datetime.now(UTC) + timedelta(seconds=_offset_seconds)


def travel(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0
