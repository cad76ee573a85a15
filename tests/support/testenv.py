"""The test session's environment: the throw-away databases and the settings the app reads.

Imported once by the root conftest, before the app. Test modules import these names from here,
not from `conftest`: pytest imports every conftest.py under that same module name, so
`from conftest import ...` may find another folder's conftest.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg

from support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def _server_url() -> str:
    """TEST_DATABASE_URL's server, or an embedded PostgreSQL under var/."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    from app.embedded_db import start_embedded_postgres

    return start_embedded_postgres(ROOT / "var" / "test")


def with_dbname(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


SERVER_URL = _server_url()
RUN_ID = uuid.uuid4().hex[:8]
TEST_DB = f"aplus_test_{RUN_ID}"
LIVE_DB = f"aplus_live_{RUN_ID}"
SMTP_PORT = free_port()
TMP = Path(tempfile.mkdtemp(prefix="aplus-test-"))

with psycopg.connect(SERVER_URL, autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    conn.execute(f'CREATE DATABASE "{LIVE_DB}"')

TEST_ENV = {
    "APLUS_ENV": "test",
    "APLUS_VAR_DIR": str(TMP / "var"),
    "DATABASE_URL": with_dbname(SERVER_URL, TEST_DB),
    "SECRET_KEY": "test-secret-key-" + RUN_ID,
    "FILE_KEYS": "test1:" + "A" * 43 + "=",
    "SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
    "BASE_URL": "http://testserver",
    "PICCOLO_CONF": "app.piccolo_conf",
}
os.environ.update(TEST_ENV)
LIVE_DATABASE_URL = with_dbname(SERVER_URL, LIVE_DB)
