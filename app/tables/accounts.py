"""Memberships, scopes, login tokens, sessions, rate limits."""

from piccolo.columns import (
    UUID,
    BigSerial,
    Boolean,
    ForeignKey,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.tables.reference import Area, Organisation
from app.tables.users import Group, User


class Membership(Table, tablename="membership"):
    """A user in a group; `is_manager` makes them responsable of that group."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, index=True)
    is_manager = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    # False when an existing account was added to the group by its e-mail: the person is a
    # full member (demandes, lists) but the group does not govern the account (its identity,
    # roles, activation). See docs/decisions/2026-12-01-account-governance.md.
    governs_account = Boolean(default=True)


class ManagerScope(Table, tablename="manager_scope"):
    """What an area manager manages or an observer observes: organisation × département."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    # "area_manager" or "observer".
    role = Varchar(length=20)
    # None means every organisation (observers at national level) / every département.
    organisation = ForeignKey(references=Organisation, null=True)
    area = ForeignKey(references=Area, null=True)


class LoginToken(Table, tablename="login_token"):
    """A magic login link: only the SHA-256 of the token is stored."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    # Local path to go back to after login.
    next_path = Varchar(length=500, default="/")


class UserSession(Table, tablename="user_session"):
    """A server-side session: the cookie holds a random id, the table its SHA-256."""

    id = UUID(primary_key=True)
    id_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    revoked_at = Timestamptz(null=True, default=None)
    # Collective accounts sign their messages; remembered for the session.
    signature = Varchar(length=300, default="")


class RateLimitHit(Table, tablename="rate_limit_hit"):
    """One counted attempt; keys are hashes so no address is stored in clear."""

    id = BigSerial(primary_key=True)
    key = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
