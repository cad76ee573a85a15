"""Input no handler should ever see: refused once, here, with a French 400 page.

- NUL characters, in the path, the query string or any form field: PostgreSQL cannot store
  them in text, and no form of the service needs them.
- A text field sent as a file part, or a file part where no upload is expected: browsers
  never send that; handlers read text fields as strings.
- Form text in an encoding that does not decode.

Everything else (lengths, formats, dates…) is a field's own rule, checked by its form with a
French error next to the field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, Scope, Send

# The only fields whose value may be a file (demande forms, CSV import).
UPLOAD_FIELDS = frozenset({"files", "fichier"})


class BadInput(ClientException):
    """A 400: the request carries something no page of the service sends."""


class AplusRequest(Request):
    async def form(self) -> FormMultiDict:
        try:
            form = await super().form()
        except (UnicodeDecodeError, LookupError):
            raise BadInput("undecodable form field") from None
        for name, value in form.multi_items():
            if "\x00" in name:
                raise BadInput("NUL in a field name")
            if isinstance(value, UploadFile):
                if name not in UPLOAD_FIELDS or "\x00" in (value.filename or ""):
                    raise BadInput("unexpected file part")
            elif "\x00" in value:
                raise BadInput("NUL in a field")
        return form


def check_input(app: ASGIApp) -> ASGIApp:
    """NUL in the path (decoded) or the query string (percent-decoded): a 400 page. A posted
    form is read and checked here, before anything touches the database: its fields are then
    at hand for the 503 page should the database fail later (app/errors.py)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if _has_nul(scope):
                raise BadInput("NUL in the URL")
            if scope["method"] == "POST":
                await AplusRequest(scope, receive).form()
        await app(scope, receive, send)

    return middleware


def _has_nul(scope: Scope) -> bool:
    query: Any = scope.get("query_string") or b""
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(query.replace(b"+", b" "))
