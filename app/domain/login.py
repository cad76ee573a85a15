"""Magic-link login: request a link, then confirm it (a GET never consumes the token)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from uuid import UUID

from app import clock, emails
from app.domain import rate_limit
from app.domain.validators import local_redirect_target
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
