"""Test harness: a throw-away database built by the real migrations, a rolled-back transaction
per test, an ASGI client, a real SMTP sink, a burst SAQ worker, factories."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from support.smtp import SmtpSink  # noqa: E402
from support.testenv import (  # noqa: E402, F401 (re-exported for older imports)
    LIVE_DATABASE_URL,
    LIVE_DB,
    SERVER_URL,
    SMTP_PORT,
    TEST_DB,
    TEST_ENV,
    TMP,
)
from support.testenv import with_dbname as _with_dbname  # noqa: E402, F401

# Only now may the app be imported: it reads its settings once.
from app import clock  # noqa: E402
from app.piccolo_conf import DB  # noqa: E402
from app.tables import User  # noqa: E402

pytest_plugins = ["support.fixtures"]


def pytest_sessionfinish(session, exitstatus):
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        for name in (TEST_DB, LIVE_DB):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def migrated():
    """The schema, built once by the real migrations."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    assert result.success, result.message
    await DB.start_connection_pool(min_size=1, max_size=4)
    yield
    await DB.close_connection_pool()


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink(SMTP_PORT)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
async def job_queue(migrated):
    from app.jobs import queue

    q = queue.make_queue()
    await q.connect()
    queue.set_queue(q)
    yield q
    queue.set_queue(None)
    await q.disconnect()


@pytest.fixture
async def db(migrated, job_queue):
    """A transaction rolled back after the test: each test starts from the migrated schema."""
    clock.reset()
    async with DB.transaction() as transaction:
        # The inbox version is bumped at commit (deferred triggers, migration 2026-12-02
        # 02:21); this transaction never commits, so bump at each statement instead.
        await User.raw("SET CONSTRAINTS inbox_bump_flush IMMEDIATE")
        yield
        await transaction.rollback()
    clock.reset()


@pytest.fixture
def mailbox(smtp_sink):
    """The real SMTP sink, emptied for this test."""
    smtp_sink.messages.clear()
    return smtp_sink


@pytest.fixture
async def run_jobs(job_queue):
    """Drain the queue with a real SAQ worker in burst mode, inside the test's transaction."""
    from saq import Worker

    from app.jobs.worker import FUNCTIONS

    async def drain() -> None:
        worker = Worker(
            job_queue, functions=FUNCTIONS, burst=True, dequeue_timeout=1, concurrency=1
        )
        await worker.start()

    return drain
