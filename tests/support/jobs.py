"""A test clock for cron jobs: at a given instant, run the jobs whose schedule says so.

SAQ schedules cron jobs on the wall clock; tests move `app.clock` instead. `tick(moment)`
sets the clock to `moment`, enqueues every job of `worker.CRON_JOBS` whose cron expression
matches that minute (Europe/Paris, as the worker reads them), and drains the queue with a
real burst worker, mails included. So a test exercises the real schedules and functions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from app import clock

PARIS = ZoneInfo("Europe/Paris")


def set_clock(moment: datetime) -> None:
    clock.reset()
    clock.travel((moment - datetime.now(UTC)).total_seconds())


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


async def drain(queue) -> None:
    """Run every due job with a real SAQ worker, inside the test's transaction.

    The worker processes jobs one by one until none is due, without its upkeep tasks: their
    scheduler also dequeues, and could take a job just as a short burst decides to stop.
    Only the jobs being drained enqueue others, so "none due" is final.
    """
    from saq import Worker

    from app.jobs.worker import FUNCTIONS

    worker = Worker(queue, functions=FUNCTIONS, dequeue_timeout=0.05, concurrency=1)
    while await worker.process():
        pass


@pytest.fixture
def tick(job_queue):
    from app.jobs.worker import CRON_JOBS

    async def at(moment: datetime) -> list[str]:
        set_clock(moment)
        due = [job for job in CRON_JOBS if croniter.match(job.cron, moment.astimezone(PARIS))]
        for job in due:
            name = job.function.__qualname__
            await job_queue.enqueue(name, key=f"cron:{name}:{moment.isoformat()}")
        await drain(job_queue)
        return [job.function.__qualname__ for job in due]

    return at
