"""A real SMTP server (aiosmtpd) that keeps what it receives, for assertions."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from dataclasses import dataclass

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s<>\"']+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CapturedMail:
    to: list[str]
    subject: str
    text: str
    html: str
    message_id: str = ""

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.text)


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.messages: list[CapturedMail] = []
        self.port = port
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        self.messages.append(
            CapturedMail(
                to=list(envelope.rcpt_tos),
                subject=str(message["Subject"]),
                text=text.get_content() if text else "",
                html=html.get_content() if html else "",
                message_id=str(message["Message-ID"] or ""),
            )
        )
        return "250 OK"

    def start(self) -> None:
        # A stopped Controller has closed its loop: each start needs a fresh one.
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def to(self, address: str) -> list[CapturedMail]:
        return [m for m in self.messages if address in m.to]
