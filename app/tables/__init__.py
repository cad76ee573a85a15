"""Piccolo tables, grouped by aggregate; import them from here."""

from app.tables.accounts import (
    LoginToken,
    ManagerScope,
    Membership,
    RateLimitHit,
    UserSession,
)
from app.tables.applications import (
    Answer,
    Application,
    ApplicationGroup,
    Attachment,
    Mandat,
    Participation,
)
from app.tables.audit import AuditEvent
from app.tables.outbox import DigestEntry, OutboxEmail, ReminderMark
from app.tables.reference import Area, Organisation
from app.tables.users import Group, User

ALL_TABLES = [
    Area,
    Organisation,
    User,
    Group,
    Membership,
    ManagerScope,
    LoginToken,
    UserSession,
    RateLimitHit,
    Application,
    ApplicationGroup,
    Participation,
    Answer,
    Attachment,
    Mandat,
    AuditEvent,
    OutboxEmail,
    DigestEntry,
    ReminderMark,
]

__all__ = [t.__name__ for t in ALL_TABLES] + ["ALL_TABLES"]
