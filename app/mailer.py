"""Sending one message over SMTP with aiosmtplib, as configured by SMTP_URL."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aiosmtplib

from app.settings import get_settings


def message_id(outbox_id: UUID) -> str:
    """The same Message-ID at every try of one outbox mail, so a duplicate can be recognised."""
    domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "aplus.localhost"
    return f"<{outbox_id}@{domain}>"


def build_message(
    recipients: list[str], subject: str, text: str, html: str, *, message_id: str | None = None
) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="aplus.localhost")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


async def send(message: EmailMessage, smtp_url: str | None = None) -> None:
    url = urlsplit(smtp_url or get_settings().smtp_url or "smtp://127.0.0.1:1025")
    implicit_tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname or "127.0.0.1",
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        # STARTTLS when the server offers it; local catchers don't.
        start_tls=None,
        timeout=30,
    )
