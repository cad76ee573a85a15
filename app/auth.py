"""Who is asking: the session middleware, and the guard that enforces each route's rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from app import policies
from app.domain import audit, sessions
from app.security import client_address


class LoginRequired(NotAuthorizedException):
    """No live session: go to the login page, then come back."""


class CguRequired(PermissionDeniedException):
    """The current CGU are not accepted yet: go accept them, then come back."""


def session_middleware(app: ASGIApp) -> ASGIApp:
    """Loads the session's user and their facts into scope['state'] (none for static files)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["viewer"] = None
        state["user"] = None
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
            raw = _cookie(scope, sessions.SESSION_COOKIE)
            if raw:
                loaded = await sessions.load_session(raw)
                if loaded:
                    state["session"], state["user"], state["viewer"] = loaded
        await app(scope, receive, send)

    return middleware


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def back_to(connection: ASGIConnection) -> str:
    """The asked path, to come back to after login or CGU."""
    path = connection.url.path
    if connection.url.query:
        path += "?" + connection.url.query
    return quote(path, safe="")


async def enforce_route_policy(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: public routes pass; others need a session, then the route's objects
    are loaded through their scopes (404 outside) and its rule is checked (403), each
    refusal written to the audit log."""
    opt = handler.opt or {}
    if opt.get("public"):
        return
    rule_name = opt.get("policy")
    if rule_name is None:
        # A route that declares nothing is refused, not silently opened.
        raise PermissionDeniedException("route without policy")
    viewer = connection.scope["state"].get("viewer")
    if viewer is None:
        raise LoginRequired()
    if not viewer.has_accepted_cgu and rule_name not in {"can_accept_cgu", "can_log_out"}:
        raise CguRequired()
    address = client_address(connection.scope)
    objects = opt.get("objects") or {}
    loaded: dict[str, Any] = {}
    ids: dict[str, Any] = {}
    for name, ref in objects.items():
        value = connection.path_params.get(ref.param)
        if ref.audit_key:
            ids[ref.audit_key] = value
        found = await ref.load(viewer, connection.path_params, loaded)
        if found is None:
            await audit.record(
                audit.Event.NOT_FOUND_IN_SCOPE, actor_id=viewer.id, client_address=address, **ids
            )
            raise NotFoundException()
        loaded[name] = found
    connection.scope["state"]["loaded"] = loaded
    if not policies.ROUTE_RULES[rule_name](viewer, *loaded.values()):
        await audit.record(
            audit.Event.ACCESS_DENIED, actor_id=viewer.id, client_address=address, **ids
        )
        raise PermissionDeniedException()


def loaded(request: ASGIConnection, name: str) -> Any:
    """An object the guard loaded for the route (see `policies.policy`)."""
    return request.scope["state"]["loaded"][name]
