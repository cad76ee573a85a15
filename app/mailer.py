"""Sending one message over SMTP with aiosmtplib, as configured by SMTP_URL."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.settings import get_settings


def build_message(recipients: list[str], subject: str, text: str, html: str) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="aplus.localhost")
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
