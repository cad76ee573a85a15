"""Security headers on every response, and the client address rule."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from app.settings import get_settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


async def security_headers(message: Message, scope: Scope) -> None:
    """Adds CSP and friends; pages for a logged-in user are never cached.

    A `before_send` hook rather than a middleware: Litestar's middleware only wraps routed
    handlers, so the 404/405 pages of unknown URLs would go out without these headers.
    """
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if get_settings().uses_https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    is_static = scope["path"].startswith("/static/")
    if not is_static and (scope.get("state") or {}).get("viewer") is not None:
        headers["Cache-Control"] = "no-store"
    elif not is_static and "cache-control" not in headers:
        headers["Cache-Control"] = "no-cache"


def client_address(scope: Scope) -> str:
    """The socket peer, or the first untrusted hop of X-Forwarded-For behind a trusted proxy."""
    peer = (scope.get("client") or ("", 0))[0] or ""
    trusted = get_settings().trusted_proxies
    if peer in trusted:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if hop not in trusted:
                        return hop[:45]
    return peer[:45]
