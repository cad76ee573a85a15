"""French error pages in the site's look, and the login/CGU detours."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import psycopg
from litestar import MediaType, Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState

from app.auth import CguRequired, LoginRequired, back_to
from app.domain import sessions
from app.piccolo_conf import DB
from app.templating import render

log = logging.getLogger("aplus.errors")

TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Fichier trop volumineux",
    500: "Erreur du service",
    503: "Service indisponible",
}


def _detour(request: Request, path: str) -> Response:
    if request.headers.get("hx-request"):
        # htmx would swap the login page into the fragment's target: ask for a real navigation.
        return Response(content="", status_code=200, headers={"HX-Redirect": path})
    return Redirect(path=path, status_code=303)


def login_required(request: Request, exc: LoginRequired) -> Response:
    return _detour(request, f"/connexion?suivant={back_to(request)}")


def cgu_required(request: Request, exc: CguRequired) -> Response:
    return _detour(request, f"/cgu?suivant={back_to(request)}")


def error_page(request: Request, status_code: int, extra: dict[str, Any] | None = None) -> Response:
    if request.url.path.startswith("/static/"):
        return Response(
            content=TITLES.get(status_code, "Erreur"),
            status_code=status_code,
            media_type=MediaType.TEXT,
        )
    return render(
        request,
        "errors/error.html",
        {
            "status_code": status_code,
            "title": TITLES.get(status_code, "Erreur"),
            # No route, no session middleware: whether this visitor is logged in is unknown.
            "session_not_loaded": "viewer" not in request.scope.get("state", {})
            and sessions.SESSION_COOKIE in request.cookies,
            **(extra or {}),
        },
        status_code=status_code,
    )


# What a PostgreSQL restart or outage looks like from the web process: refused or dropped
# connections (asyncpg for the data, psycopg for the SAQ queue), the server shutting down or
# not accepting connections yet, and a pooled connection left in a broken protocol state by
# the server's shutdown message (InternalClientError).
DATABASE_UNAVAILABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
    psycopg.OperationalError,
    ConnectionError,
    TimeoutError,
)
RETRY_AFTER_SECONDS = 2


def _submitted_fields(request: Request) -> tuple[list[tuple[str, str]], bool]:
    """The text fields of the POST that failed (to send them again), and whether it had files.

    Only what was already read: the body of a request is not read again here.
    """
    form = ScopeState.from_scope(request.scope).form
    if not isinstance(form, dict):
        return [], False
    fields, had_files = [], False
    for name, values in form.items():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, UploadFile):
                had_files = had_files or bool(value.filename)
            else:  # the CSRF token included: it is still the one of this browser's cookie
                fields.append((name, str(value)))
    return fields, had_files


def _renew_pooled_connections() -> None:
    """Every pooled connection predates the outage: replace each at its next use rather than
    let each one fail a request first (asyncpg's expire_connections only bumps a counter)."""
    pool = getattr(DB, "pool", None)
    if pool is not None:
        pool._generation += 1


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 and Retry-After while PostgreSQL restarts; a POST's fields come back in a form that
    sends them again (docs/decisions/2026-12-01-database-restart.md)."""
    log.warning(
        "database unavailable (%s) on %s",
        type(exc).__name__,
        request.scope.get("path_template", "?"),
    )
    _renew_pooled_connections()
    extra: dict[str, Any] = {"retry_after": RETRY_AFTER_SECONDS}
    if request.method == "POST":
        fields, had_files = _submitted_fields(request)
        extra.update(resend_fields=fields, resend_had_files=had_files, resend_to=request.url.path)
    response = error_page(request, 503, extra)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def http_error(request: Request, exc: HTTPException) -> Response:
    return error_page(request, exc.status_code)


def server_error(request: Request, exc: Exception) -> Response:
    # The exception type and route only: messages may carry user input.
    log.error(
        "unhandled %s on %s",
        type(exc).__name__,
        request.scope.get("path_template", "?"),
        exc_info=exc,
    )
    return error_page(request, 500)


def interface_error(request: Request, exc: Exception) -> Response:
    """asyncpg's InterfaceError is a misuse (a bug: 500), unless it comes from a connection the
    outage closed, e.g. rolling back a transaction whose connection was cut."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DATABASE_UNAVAILABLE) or "connection is closed" in str(cause):
            return database_unavailable(request, exc)
        cause = cause.__cause__ or cause.__context__
    return server_error(request, exc)


EXCEPTION_HANDLERS = {
    **{kind: database_unavailable for kind in DATABASE_UNAVAILABLE},
    asyncpg.exceptions.InterfaceError: interface_error,
    LoginRequired: login_required,
    CguRequired: cgu_required,
    NotFoundException: http_error,
    PermissionDeniedException: http_error,
    ValidationException: http_error,
    HTTPException: http_error,
    Exception: server_error,
}
