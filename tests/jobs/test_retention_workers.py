"""Two real SAQ workers on one database at the same cron minute: the nightly job runs once, and
the row locks share a backlog between concurrent runs without erasing twice or missing one.

The data is committed (workers use their own connections), so it is removed afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from factories import make_application, make_group, make_user
from saq import Worker

from app import clock
from app.domain import applications
from app.jobs import queue, retention
from app.jobs.registry import _Sql
from app.jobs.worker import FUNCTIONS
from app.tables import Application, Group, User

PARIS = ZoneInfo("Europe/Paris")
DAY = 86400


@pytest.fixture
async def committed_backlog(migrated, job_queue):
    """Six demandes archived 91 days ago, committed; everything deleted afterwards."""
    clock.reset()
    fs = await make_group("france-services")
    caf = await make_group("caf")
    aidant = await make_user(helper_in=[fs])
    agent = await make_user(instructor_in=[caf])
    created = []
    for _ in range(6):
        application = await make_application(by=aidant, to=[caf], from_group=fs)
        await applications.post_answer(application.id, agent, body="Réponse de l'agent.")
        await applications.archive(application.id, aidant, "oui")
        created.append(application.id)
    await _Sql.raw("DELETE FROM job_run WHERE name = 'wipe_personal_data'")
    clock.travel(91 * DAY)
    yield created
    clock.reset()
    await Application.delete().where(Application.id.is_in(created))
    await User.delete().where(User.id.is_in([aidant.id, agent.id]))
    await Group.delete().where(Group.id.is_in([fs.id, caf.id]))
    await _Sql.raw("DELETE FROM job_run WHERE name = 'wipe_personal_data'")
    await _Sql.raw("DELETE FROM saq_jobs WHERE key = 'cron:wipe_personal_data'")


async def _wiped(ids) -> int:
    return await Application.count().where(
        Application.id.is_in(ids) & Application.personal_data_wiped_at.is_not_null()
    )


async def _runs() -> list[dict]:
    return await _Sql.raw(
        "SELECT outcome, counts, started_at FROM job_run WHERE name = 'wipe_personal_data'"
    )


async def test_two_workers_at_the_same_cron_minute_run_the_job_once(committed_backlog):
    # The production schedule, moved to a second a few seconds ahead so the test need not
    # wait for 03:15: the same CronJob, unique key and function.
    [nightly] = [j for j in retention.CRON_JOBS if j.function is retention.wipe_personal_data]
    fire = (datetime.now(PARIS).second + 4) % 60
    cron = dataclasses.replace(nightly, cron=f"* * * * * {fire}")
    processed: list[str] = []
    done = asyncio.Event()
    workers = []
    for name in ("premier", "second"):
        q = queue.make_queue()
        await q.connect()

        async def after(ctx, name=name):
            # The shared test queue may hold other tests' leftover jobs: count only ours.
            if ctx["job"].function == "wipe_personal_data":
                processed.append(name)
                done.set()

        workers.append(
            Worker(
                q,
                functions=FUNCTIONS,
                cron_jobs=[cron],
                cron_tz=PARIS,
                after_process=after,
                concurrency=2,
                timers={"schedule": 1, "stats": 10, "sweep": 60, "abort": 1},
            )
        )
    tasks = [asyncio.create_task(w.start()) for w in workers]
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        for w in workers:
            await w.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in workers:
            await w.queue.disconnect()

    runs = await _runs()
    assert len(runs) == 1, runs
    # And no second copy waits in the queue: one job row for this function, finished.
    queued = await _Sql.raw(
        "SELECT key, status FROM saq_jobs"
        " WHERE convert_from(job, 'UTF8') LIKE '%wipe_personal_data%'"
    )
    assert [(r["key"], r["status"]) for r in queued] == [("cron:wipe_personal_data", "complete")]
    assert len(processed) == 1
    assert await _wiped(committed_backlog) == len(committed_backlog)


async def test_concurrent_runs_share_the_backlog_without_doing_anything_twice(
    committed_backlog, monkeypatch
):
    # Small batches so both runs interleave over the same rows.
    monkeypatch.setattr(retention, "BATCH", 1)
    first, second = await asyncio.gather(
        retention.wipe_personal_data({}), retention.wipe_personal_data({})
    )
    assert first["demandes"] + second["demandes"] == len(committed_backlog)
    assert await _wiped(committed_backlog) == len(committed_backlog)
