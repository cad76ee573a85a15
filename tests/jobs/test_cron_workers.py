"""Two workers on one database: each cron job runs once per tick, and every job is listed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

from croniter import croniter
from saq import Worker

from app.jobs import mail, reminders, retention, statistics
from app.jobs.worker import CRON_JOBS, FUNCTIONS, make_settings


def test_every_job_module_is_assembled_with_a_valid_schedule():
    modules = (mail, reminders, retention, statistics)
    expected = [job.function.__name__ for m in modules for job in m.CRON_JOBS]
    assert [job.function.__name__ for job in CRON_JOBS] == expected
    assert {"sweep_outbox", "remind_late", "wipe_personal_data", "refresh_statistics"} <= set(
        expected
    )
    assert all(job.unique and croniter.is_valid(job.cron) for job in CRON_JOBS)
    assert {job.function for job in CRON_JOBS} <= set(FUNCTIONS)
    # Every cron run is recorded in job_run (aplus jobs list shows the last one).
    assert all(getattr(job.function, "recorded", False) for job in CRON_JOBS)


async def test_two_workers_run_each_cron_job_once_per_tick(migrated):
    runs: list[tuple[str, int, int, str]] = []

    async def record(ctx: dict) -> None:
        job = ctx["job"]
        runs.append((job.function, job.scheduled, job.attempts, ctx["worker"]))

    # The real jobs, every 2 seconds instead of their schedules (croniter's seconds field).
    fast = [dataclasses.replace(job, cron="* * * * * */2") for job in CRON_JOBS]
    workers = []
    for name in ("a", "b"):
        settings = {
            **make_settings(),
            "cron_jobs": fast,
            "startup": None,
            "shutdown": None,
            "after_process": None,
            "timers": {"schedule": 1, "sweep": 3600},
        }

        async def tag(ctx: dict, name: str = name) -> None:
            ctx["worker"] = name
            await record(ctx)

        settings["before_process"] = tag
        worker = Worker(**settings)
        await worker.queue.connect()
        workers.append(worker)
    tasks = [asyncio.create_task(w.start()) for w in workers]
    try:
        # Wait for at least three ticks of every job (a condition, not a fixed sleep).
        for _ in range(200):
            per_job = Counter(function for function, _, _, _ in runs)
            if len(per_job) == len(fast) and min(per_job.values()) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            await worker.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        # The workers leave their next ticks queued under the jobs' unique keys
        # ("cron:<name>"): later tests enqueueing a job by that key would find it taken.
        async with workers[0].queue.pool.connection() as conn:
            await conn.execute("DELETE FROM saq_jobs WHERE key LIKE 'cron:%'")
        for worker in workers:
            await worker.queue.disconnect()

    # One enqueue per tick: a tick taken twice would show the same first attempt twice. (A
    # second attempt of a tick is SAQ handing back a job whose worker looked dead — not a
    # second schedule; the nightly jobs are idempotent for that case.)
    per_tick = Counter((function, scheduled, attempts) for function, scheduled, attempts, _ in runs)
    assert len({function for function, _, _ in per_tick}) == len(fast)
    twice = [(key, [r[3] for r in runs if r[:3] == key]) for key, n in per_tick.items() if n > 1]
    assert not twice, twice
    # Both workers took part (the ticks are shared out, not served by one alone).
    assert {worker for _, _, _, worker in runs} == {"a", "b"}
