"""Server-side sessions: the cookie holds a random id, the database its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from uuid import UUID

from app import clock
from app.policies import Viewer
from app.settings import get_settings
from app.tables import User, UserSession

SESSION_COOKIE = "aplus_session"
# Writing last_seen_at on every request would turn each page view into a write.
_TOUCH_EVERY = timedelta(minutes=5)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_session(user_id: UUID) -> str:
    """A new session for the user; returns the raw id for the cookie."""
    settings = get_settings()
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    await UserSession.insert(
        UserSession(
            id_hash=token_hash(raw),
            user=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_days),
        )
    )
    return raw


async def revoke_session(raw: str) -> None:
    await UserSession.update({UserSession.revoked_at: clock.now()}).where(
        UserSession.id_hash == token_hash(raw)
    )


async def revoke_all_sessions(user_id: UUID) -> None:
    await UserSession.update({UserSession.revoked_at: clock.now()}).where(
        (UserSession.user == user_id) & UserSession.revoked_at.is_null()
    )


# The viewer's facts, as columns next to the user's: one round trip instead of three on
# every request (memberships and manager scopes as arrays; scopes as parallel arrays since
# their organisation or area may be NULL).
FACTS_SQL = """
  ARRAY(SELECT m."group" FROM membership m WHERE m."user" = u.id) AS facts_groups,
  ARRAY(SELECT m."group" FROM membership m WHERE m."user" = u.id AND m.is_manager)
    AS facts_managed,
  ARRAY(SELECT s.role FROM manager_scope s WHERE s."user" = u.id ORDER BY s.id) AS facts_roles,
  ARRAY(SELECT s.organisation FROM manager_scope s WHERE s."user" = u.id ORDER BY s.id)
    AS facts_orgs,
  ARRAY(SELECT s.area FROM manager_scope s WHERE s."user" = u.id ORDER BY s.id) AS facts_areas
"""
_FACTS_COLUMNS = ("facts_groups", "facts_managed", "facts_roles", "facts_orgs", "facts_areas")


async def load_session(raw: str) -> tuple[dict, dict, Viewer] | None:
    """The live session, its active user and their viewer facts (one query), or None
    (expired, idle, revoked, disabled)."""
    settings = get_settings()
    now = clock.now()
    rows = await UserSession.raw(
        "SELECT s.id AS session_id, s.last_seen_at AS session_seen, s.signature, u.*,"
        + FACTS_SQL
        + " FROM user_session s JOIN app_user u ON u.id = s.user"
        " WHERE s.id_hash = {} AND s.revoked_at IS NULL AND s.expires_at > {}"
        " AND s.last_seen_at > {} AND u.disabled_at IS NULL",
        token_hash(raw),
        now,
        now - timedelta(days=settings.session_idle_days),
    )
    if not rows:
        return None
    row = rows[0]
    if now - row["session_seen"] > _TOUCH_EVERY:
        await UserSession.update({UserSession.last_seen_at: now}).where(
            UserSession.id == row["session_id"]
        )
        await User.update({User.last_seen_at: now}).where(User.id == row["id"])
    session = {"id": row.pop("session_id"), "signature": row.pop("signature")}
    row.pop("session_seen")
    facts = {k: row.pop(k) for k in _FACTS_COLUMNS}
    return session, row, viewer_from(row, facts)


async def load_session_user(raw: str) -> tuple[dict, dict] | None:
    """The live session and its active user, or None (expired, idle, revoked, disabled)."""
    loaded = await load_session(raw)
    return None if loaded is None else loaded[:2]


async def build_viewer(user: dict, *, cgu_accepted: bool | None = None) -> Viewer:
    """Gather the facts the policies need about this user (one query)."""
    rows = await User.raw("SELECT " + FACTS_SQL + " FROM app_user u WHERE u.id = {}", user["id"])
    facts = rows[0] if rows else dict.fromkeys(_FACTS_COLUMNS, [])
    return viewer_from(user, facts, cgu_accepted=cgu_accepted)


def viewer_from(user: dict, facts: dict, *, cgu_accepted: bool | None = None) -> Viewer:
    """The one place a Viewer is built: a user row and its FACTS_SQL columns.

    `cgu_accepted=True` for someone who is not making a request (an e-mail's recipient, the
    landing page chosen at login): they accept the current CGU on arrival, and the rules
    should answer as they will then.
    """
    settings = get_settings()
    if cgu_accepted is None:
        cgu_accepted = user["cgu_version"] == settings.cgu_version
    scopes = list(zip(facts["facts_roles"], facts["facts_orgs"], facts["facts_areas"], strict=True))
    return Viewer(
        id=user["id"],
        is_helper=user["is_helper"],
        is_instructor=user["is_instructor"],
        is_expert=user["is_expert"],
        is_admin=user["is_admin"],
        is_collective=user["is_collective"],
        is_disabled=user["disabled_at"] is not None,
        has_accepted_cgu=cgu_accepted,
        admin_areas=frozenset(user["admin_areas"] or []),
        group_ids=frozenset(facts["facts_groups"]),
        managed_group_ids=frozenset(facts["facts_managed"]),
        area_manager_scopes=frozenset(
            (org, area) for role, org, area in scopes if role == "area_manager"
        ),
        observer_scopes=frozenset((org, area) for role, org, area in scopes if role == "observer"),
    )


async def remember_signature(session: dict | None, signature: str) -> None:
    """Collective accounts sign each message; the signature is kept for the session."""
    if session and signature and signature != session.get("signature"):
        await UserSession.update({UserSession.signature: signature}).where(
            UserSession.id == session["id"]
        )
