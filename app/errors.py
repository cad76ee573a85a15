"""French error pages in the site's look, and the login/CGU detours."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect

from app.auth import CguRequired, LoginRequired, back_to
from app.domain import sessions
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


def error_page(request: Request, status_code: int) -> Response:
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
        },
        status_code=status_code,
    )


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


EXCEPTION_HANDLERS = {
    LoginRequired: login_required,
    CguRequired: cgu_required,
    NotFoundException: http_error,
    PermissionDeniedException: http_error,
    ValidationException: http_error,
    HTTPException: http_error,
    Exception: server_error,
}
