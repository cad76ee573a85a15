"""What every route module reads from a request (the viewer, the client's address, the form)
and the refusals a handler finds in a posted form, recorded like the guard's own."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.domain import audit, sessions
from app.policies import Viewer
from app.security import client_address
from app.templating import wants_fragment


def current_viewer(request: Request) -> Viewer:
    return request.scope["state"]["viewer"]


def address(request: Request) -> str:
    return client_address(request.scope)


async def form_dict(request: Request) -> dict[str, Any]:
    """The posted fields, one value each (the last one posted)."""
    form = await request.form()
    return {key: form.get(key) for key in form}


def error_status(request: Request) -> int:
    # htmx only swaps 2xx answers; a plain form post gets a real error status.
    return 200 if wants_fragment(request) else 422


def session_signature(request: Request) -> str:
    """The signature a shared account gave last in this session (prefills the forms)."""
    session = request.scope["state"].get("session") or {}
    return session.get("signature") or ""


async def remember_signature(request: Request, signature: str) -> None:
    """After a commit: the signature a shared account just used prefills its next forms."""
    await sessions.remember_signature(request.scope["state"].get("session"), signature)


async def refused(request: Request, **ids: Any) -> PermissionDeniedException:
    """A forged form (an option never offered to this viewer): 403, in the audit log."""
    await _record(request, audit.Event.ACCESS_DENIED, ids)
    return PermissionDeniedException()


async def not_found(request: Request, **ids: Any) -> NotFoundException:
    """Something outside the viewer's scope: 404, in the audit log."""
    await _record(request, audit.Event.NOT_FOUND_IN_SCOPE, ids)
    return NotFoundException()


async def _record(request: Request, event: audit.Event, ids: dict[str, Any]) -> None:
    await audit.record(
        event, actor_id=current_viewer(request).id, client_address=address(request), **ids
    )
