"""Scheduled jobs: the schedule written beside each function, and a record of every run.

A job module decorates each nightly function with `@scheduled("cron")` and exports
`CRON_JOBS = cron_jobs(f, g, …)`; `app/jobs/worker.py` adds those lists to the worker, and
`aplus jobs list / run` read the same lists. Each run leaves a `job_run` row (start, end,
outcome, counts), whether the cron or an operator started it: one code path.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from piccolo.table import Table
from saq import CronJob

from app import clock

log = logging.getLogger("aplus.jobs")

# Longer than any nightly run at the expected volumes: SAQ aborts a job past its timeout.
NIGHTLY_TIMEOUT_SECONDS = 3 * 3600

JobFunction = Callable[[dict], Awaitable[dict[str, int]]]


class _Sql(Table):
    """Raw statements on `job_run`, a table the ORM does not manage (see its migration)."""


async def start_run(name: str) -> int:
    rows = await _Sql.raw(
        "INSERT INTO job_run (name, started_at) VALUES ({}, {}) RETURNING id", name, clock.now()
    )
    return rows[0]["id"]


async def finish_run(run_id: int, outcome: str, counts: dict[str, int]) -> None:
    await _Sql.raw(
        "UPDATE job_run SET finished_at = {}, outcome = {}, counts = {}::jsonb WHERE id = {}",
        clock.now(),
        outcome,
        json.dumps(counts),
        run_id,
    )


def scheduled(cron: str) -> Callable[[JobFunction], JobFunction]:
    """Give a job its schedule (Europe/Paris) and record each of its runs in `job_run`."""

    def decorate(function: JobFunction) -> JobFunction:
        @functools.wraps(function)
        async def run(ctx: dict | None = None, **kwargs) -> dict[str, int]:
            run_id = await start_run(function.__name__)
            try:
                counts = await function(ctx or {}, **kwargs)
            except BaseException:
                await finish_run(run_id, "error", {})
                raise
            await finish_run(run_id, "ok", counts)
            # Counts only: no job ever logs personal data.
            log.info("job %s: %s", function.__name__, counts)
            return counts

        run.cron = cron  # type: ignore[attr-defined]
        run.recorded = True  # type: ignore[attr-defined]
        return run

    return decorate


def cron_jobs(*functions: JobFunction) -> list[CronJob]:
    # unique: every worker schedules the same key for the same minute, so it runs once.
    return [
        CronJob(f, cron=f.cron, unique=True, timeout=NIGHTLY_TIMEOUT_SECONDS, retries=1)  # type: ignore[attr-defined]
        for f in functions
    ]


def recorded(cron_job: CronJob) -> CronJob:
    """The same CronJob whose runs are written to `job_run` (for modules that build their
    CronJob by hand), so `aplus jobs list` knows every job's last run."""
    if getattr(cron_job.function, "recorded", False):
        return cron_job
    return dataclasses.replace(cron_job, function=scheduled(cron_job.cron)(cron_job.function))


@dataclass(frozen=True)
class LastRun:
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict


def job_name(cron_job: CronJob) -> str:
    return cron_job.function.__name__


def find(cron_jobs_list: Iterable[CronJob], name: str) -> CronJob | None:
    return next((j for j in cron_jobs_list if job_name(j) == name), None)


async def last_runs(names: Iterable[str]) -> dict[str, LastRun]:
    rows = await _Sql.raw(
        "SELECT DISTINCT ON (name) name, started_at, finished_at, outcome, counts FROM job_run"
        " WHERE name = ANY({}) ORDER BY name, started_at DESC, id DESC",
        list(names),
    )
    return {
        r["name"]: LastRun(
            r["started_at"],
            r["finished_at"],
            r["outcome"],
            json.loads(r["counts"]) if isinstance(r["counts"], str) else r["counts"],
        )
        for r in rows
    }


async def count_runs(name: str) -> int:
    rows = await _Sql.raw("SELECT count(*) AS n FROM job_run WHERE name = {}", name)
    return rows[0]["n"]
