"""Keeping the statistics aggregate fresh (app/domain/statistics.py).

Every 15 minutes the demandes changed since the last run (and those whose outcome was still
pending) are recomputed; every night at 03:30 everything is, which also catches edits of a
group's organisation or network. Both are cheap to run twice (they rewrite the same rows).
"""

from __future__ import annotations

import logging

from saq import CronJob

from app.domain import statistics
from app.jobs.queue import get_queue

log = logging.getLogger("aplus.jobs.statistics")

INCREMENTAL_CRON = "*/15 * * * *"
FULL_CRON = "30 3 * * *"
# A full refresh reads every demande: minutes at a million (bench/RESULTS.md).
TIMEOUT_SECONDS = 3600


async def refresh_statistics(ctx: dict, *, full: bool = False) -> dict:
    report = await statistics.refresh(full=full)
    log.info(
        "statistics refreshed: %s demandes, %s months, %.1f s (full=%s)",
        report.demandes,
        report.months,
        report.seconds,
        report.full,
    )
    return {"demandes": report.demandes, "seconds": round(report.seconds, 3)}


async def refresh_statistics_full(ctx: dict) -> dict:
    return await refresh_statistics(ctx, full=True)


async def request_refresh(*, full: bool = False) -> None:
    """On demand (the admins' button): one refresh queued at a time, with the long timeout."""
    queue = await get_queue()
    await queue.enqueue(
        "refresh_statistics_full" if full else "refresh_statistics",
        key="statistics:on-demand:full" if full else "statistics:on-demand",
        timeout=TIMEOUT_SECONDS,
    )


FUNCTIONS = [refresh_statistics, refresh_statistics_full]
CRON_JOBS = [
    CronJob(refresh_statistics, cron=INCREMENTAL_CRON, unique=True, timeout=TIMEOUT_SECONDS),
    CronJob(refresh_statistics_full, cron=FULL_CRON, unique=True, timeout=TIMEOUT_SECONDS),
]
