"""Development-only pages: the captured mails.

They hold every login link, so they exist only when the local catcher of `aplus run` is the
mail transport (`Settings.dev_pages_enabled`), and answer only clients on this machine.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import re
from pathlib import Path

from litestar import Request, Router, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Response, Template

from app import emails
from app.policies import public
from app.settings import get_settings
from app.templating import render

LINK = re.compile(r"https?://[^\s<>\"']+")


def captured_mails() -> list[dict]:
    """Mails the local catcher wrote, newest first."""
    folder: Path = get_settings().dev_mail_dir
    if not folder.exists():
        return []
    mails = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        text = text_part.get_content() if text_part else ""
        mails.append(
            {
                "id": path.stem,
                "to": [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()],
                "subject": str(message.get("Subject", "")),
                "date": str(message.get("Date", "")),
                "text": text,
                "html": html_part.get_content() if html_part else "",
                "links": LINK.findall(text),
            }
        )
    return mails


@get("/dev/mails", opt=public())
async def mail_list(request: Request) -> Template:
    return render(
        request,
        "dev/mails.html",
        {
            "mails": captured_mails(),
            "title": "E-mails capturés",
            "previews": sorted(emails.PREVIEWS),
        },
    )


@get("/dev/mails.json", opt=public())
async def mail_list_json() -> Response:
    return Response(
        [
            {"to": m["to"], "subject": m["subject"], "text": m["text"], "links": m["links"]}
            for m in captured_mails()
        ]
    )


@get("/dev/mails/apercu/{event:str}", opt=public())
async def mail_preview(request: Request, event: FromPath[str]) -> Template:
    if event not in emails.PREVIEWS:
        raise NotFoundException()
    subject, text, _html = emails.render_email(event, emails.PREVIEWS[event])
    return render(
        request,
        "dev/preview.html",
        {"subject": subject, "text": text, "links": LINK.findall(text), "title": "Aperçu d'e-mail"},
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def loopback_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A 404, as if the page did not exist, for anyone not on this machine.

    The socket peer decides, never X-Forwarded-For; a request a proxy forwarded (its header
    present) is refused too, since behind a local proxy every peer is loopback.
    """
    peer = (connection.scope.get("client") or ("", 0))[0] or ""
    forwarded = any(
        name in (b"x-forwarded-for", b"forwarded") for name, _ in connection.scope["headers"]
    )
    if not get_settings().dev_pages_enabled or forwarded or not _is_loopback(peer):
        raise NotFoundException()


router = Router(
    path="",
    route_handlers=[mail_list, mail_list_json, mail_preview],
    guards=[loopback_only],
)
