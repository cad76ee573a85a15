"""`aplus run` stops everything on SIGTERM as on Ctrl-C: web, worker, and the embedded PostgreSQL
(an orphan server would be silently reused by the next start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from support.smtp import free_port
from support.testenv import ROOT


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its parent's wait() is gone for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (local)
            return response.status == 200
    except OSError:
        return False


def test_sigterm_stops_web_worker_and_embedded_postgres():
    var = Path(tempfile.mkdtemp(prefix="aplus-run-"))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SMTP_URL", "TEST_DATABASE_URL", "BASE_URL")
    }
    env.update({"PYTHONPATH": str(ROOT), "APLUS_VAR_DIR": str(var), "APLUS_ENV": "development"})
    env["DEV_MAIL_DIR"] = str(var / "mails")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--port", str(port), "--no-demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _up(f"http://127.0.0.1:{port}/sante"):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "aplus run did not come up"
            time.sleep(0.5)
        postmaster = int((var / "pgdata" / "postmaster.pid").read_text().split()[0])
        children = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        assert len(children) >= 2 and _alive(postmaster)

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        assert "Arrêté." in output
        assert not _up(f"http://127.0.0.1:{port}/sante")
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in [*children, postmaster]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in children if _alive(pid)] == [], "web or worker left running"
        assert not _alive(postmaster), "the embedded PostgreSQL was left running"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
