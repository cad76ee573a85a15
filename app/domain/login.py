"""Magic-link login: request a link, then confirm it (a GET never consumes the token)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from urllib.parse import quote
from uuid import UUID

from app import clock, emails, policies
from app.domain import audit, rate_limit, sessions
from app.domain.validators import local_redirect_target
from app.piccolo_conf import DB
from app.settings import get_settings
from app.tables import LoginToken, User


class LinkRequest(Enum):
    SENT = "sent"
    UNKNOWN = "unknown"
    DISABLED = "disabled"
    RATE_LIMITED = "rate_limited"


class LinkState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    user_id: UUID | None = None
    next_path: str = "/"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def request_link(
    email: str, client_address: str, next_path: str | None
) -> tuple[LinkRequest, UUID | None]:
    """Send a login link if the address has an active account; rate-limited either way."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_rate_window_minutes)
    if not await rate_limit.allow(
        rate_limit.limit_key("login-address", client_address),
        limit=settings.login_rate_per_address,
        window=window,
    ) or not await rate_limit.allow(
        rate_limit.limit_key("login-email", email),
        limit=settings.login_rate_per_email,
        window=window,
    ):
        return LinkRequest.RATE_LIMITED, None
    user = await User.objects().where(User.email == email).first()
    if user is None:
        return LinkRequest.UNKNOWN, None
    if user.disabled_at is not None:
        return LinkRequest.DISABLED, user.id
    await send_link(user.id, user.email, next_path)
    return LinkRequest.SENT, user.id


async def send_link(user_id: UUID, email: str, next_path: str | None) -> None:
    settings = get_settings()
    raw = secrets.token_urlsafe(32)  # 256 bits from the OS's CSPRNG
    expires_at = clock.now() + timedelta(minutes=settings.login_link_minutes)
    await LoginToken.insert(
        LoginToken(
            token_hash=_hash(raw),
            user=user_id,
            created_at=clock.now(),
            expires_at=expires_at,
            next_path=local_redirect_target(next_path) or "/",
        )
    )
    await emails.login_link(email, f"{settings.base_url}/connexion/lien/{raw}", expires_at)


async def check_link(raw: str) -> LinkCheck:
    """What a link is worth, without consuming it."""
    token = await LoginToken.objects().where(LoginToken.token_hash == _hash(raw)).first()
    if token is None:
        return LinkCheck(LinkState.UNKNOWN)
    if token.used_at is not None:
        return LinkCheck(LinkState.USED, token.user)
    if token.expires_at <= clock.now():
        return LinkCheck(LinkState.EXPIRED, token.user)
    return LinkCheck(LinkState.VALID, token.user, token.next_path)


async def consume_link(raw: str) -> LinkCheck:
    """Use the link once: the single UPDATE makes two concurrent confirmations log in once."""
    now = clock.now()
    rows = (
        await LoginToken.update({LoginToken.used_at: now})
        .where(
            (LoginToken.token_hash == _hash(raw))
            & LoginToken.used_at.is_null()
            & (LoginToken.expires_at > now)
        )
        .returning(LoginToken.user, LoginToken.next_path)
    )
    if not rows:
        return await check_link(raw)
    return LinkCheck(LinkState.VALID, rows[0]["user"], rows[0]["next_path"])


async def resend_for_link(raw: str, client_address: str) -> LinkRequest:
    """One click on a dead link sends a fresh one to the same account (address never shown)."""
    check = await check_link(raw)
    if check.user_id is None:
        return LinkRequest.UNKNOWN
    user = await User.objects().where(User.id == check.user_id).first()
    if user is None:
        return LinkRequest.UNKNOWN
    result, _ = await request_link(user.email, client_address, check.next_path)
    return result


# --- the two steps as the login pages take them, each with its audit line ---------------------

_REQUEST_EVENTS = {
    LinkRequest.SENT: audit.Event.LOGIN_LINK_REQUESTED,
    LinkRequest.UNKNOWN: audit.Event.LOGIN_LINK_UNKNOWN_EMAIL,
    LinkRequest.DISABLED: audit.Event.LOGIN_LINK_REFUSED_DISABLED,
    LinkRequest.RATE_LIMITED: audit.Event.LOGIN_LINK_RATE_LIMITED,
}
_FAILED_EVENTS = {
    LinkState.EXPIRED: audit.Event.LOGIN_FAILED_EXPIRED,
    LinkState.USED: audit.Event.LOGIN_FAILED_USED,
    LinkState.UNKNOWN: audit.Event.LOGIN_FAILED_UNKNOWN,
}


async def ask_for_link(email: str, client_address: str, next_path: str | None) -> LinkRequest:
    """request_link, recorded (the page answers the same whether the account exists)."""
    result, user_id = await request_link(email, client_address, next_path)
    await audit.record(_REQUEST_EVENTS[result], user_id=user_id, client_address=client_address)
    return result


@dataclass(frozen=True)
class LogIn:
    """A confirmed link: the new session's raw id and where to go (None: the link is dead)."""

    state: LinkState
    session: str | None = None
    target: str = "/"


async def log_in(raw: str, old_session: str | None, client_address: str) -> LogIn:
    """Consume the link and open a fresh session (any session this browser had is ended); the
    target is the page asked for, else the role's home, behind the CGU when they are due."""
    check = await consume_link(raw)
    if check.state is not LinkState.VALID:
        event = _FAILED_EVENTS[check.state]
        await audit.record(event, user_id=check.user_id, client_address=client_address)
        return LogIn(check.state)
    user = await User.objects().where(User.id == check.user_id).first()
    if user is None or user.disabled_at is not None:
        await audit.record(
            audit.Event.LOGIN_LINK_REFUSED_DISABLED,
            user_id=check.user_id,
            client_address=client_address,
        )
        return LogIn(LinkState.UNKNOWN)
    now = clock.now()
    updates = {User.last_seen_at: now}
    if user.first_login_at is None:
        updates[User.first_login_at] = now
    async with DB.transaction():
        if old_session:
            await sessions.revoke_session(old_session)
        session = await sessions.create_session(user.id)
        await User.update(updates).where(User.id == user.id)
        await audit.record(
            audit.Event.LOGIN_SUCCEEDED, actor_id=user.id, client_address=client_address
        )
    return LogIn(LinkState.VALID, session, await _target(user, check.next_path))


async def _target(user: User, next_path: str | None) -> str:
    target = local_redirect_target(next_path) or "/"
    if target == "/":
        # No page asked for: each role's own home (the CGU come first when due).
        viewer = await sessions.build_viewer(user.to_dict(), cgu_accepted=True)
        target = policies.landing_path(viewer)
    if user.cgu_version != get_settings().cgu_version:
        target = f"/cgu?suivant={quote(target, safe='')}"
    return target


async def log_out(raw_session: str | None, user_id: UUID, *, client_address: str) -> None:
    if raw_session:
        await sessions.revoke_session(raw_session)
    await audit.record(audit.Event.LOGOUT, actor_id=user_id, client_address=client_address)
