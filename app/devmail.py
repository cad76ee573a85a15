"""The local mail catcher of `aplus run`: an SMTP server writing each mail to DEV_MAIL_DIR."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        name = f"{time.time_ns()}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_catcher(folder: Path, port: int | None = None) -> Controller:
    """Start the catcher in its own thread; returns the controller (call .stop())."""
    controller = Controller(_SaveToFolder(folder), hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller
