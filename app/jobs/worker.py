"""SAQ worker settings: `saq app.jobs.worker.settings`, or `aplus worker`."""

from __future__ import annotations

import logging
import time
from zoneinfo import ZoneInfo

from saq import CronJob

from app.domain import business_days
from app.jobs import mail, reminders, retention
from app.jobs import statistics as statistics_jobs
from app.jobs.queue import get_queue, make_queue
from app.jobs.registry import recorded
from app.piccolo_conf import DB

log = logging.getLogger("aplus.worker")

# Each job module exports its CronJobs (schedule beside each function); list them here.
# Every run is recorded in `job_run`, so `aplus jobs list` shows each job's last run.
CRON_JOBS: list[CronJob] = [
    recorded(job)
    for job in [
        *mail.CRON_JOBS,
        *reminders.CRON_JOBS,
        *retention.CRON_JOBS,
        *statistics_jobs.CRON_JOBS,
    ]
]
# Every function a worker may run: the cron jobs (recorded), plus those only enqueued on
# demand (SAQ finds a function by its name: a cron job's recorded version wins).
_CRON_NAMES = {job.function.__name__ for job in CRON_JOBS}
FUNCTIONS = [
    mail.send_email,
    *(job.function for job in CRON_JOBS),
    *(f for f in statistics_jobs.FUNCTIONS if f.__name__ not in _CRON_NAMES),
]


async def startup(ctx: dict) -> None:
    await DB.start_connection_pool(min_size=1, max_size=5)
    # As the web workers (app/main.py `_ready`): the holiday rules' first load, ~45 ms of
    # CPU, is not a job's.
    business_days.warm()


async def shutdown(ctx: dict) -> None:
    await DB.close_connection_pool()


async def before_process(ctx: dict) -> None:
    ctx["started"] = time.monotonic()


async def after_process(ctx: dict) -> None:
    job = ctx.get("job")
    if job is not None:
        elapsed = time.monotonic() - ctx.get("started", time.monotonic())
        log.info("job %s %s %s %.3fs", job.function, job.id, job.status, elapsed)


def make_settings() -> dict:
    return {
        "queue": make_queue(),
        "functions": FUNCTIONS,
        "cron_jobs": CRON_JOBS,
        "cron_tz": ZoneInfo("Europe/Paris"),
        "concurrency": 5,
        "startup": startup,
        "shutdown": shutdown,
        "before_process": before_process,
        "after_process": after_process,
    }


__all__ = ["make_settings", "get_queue", "FUNCTIONS", "CRON_JOBS"]
