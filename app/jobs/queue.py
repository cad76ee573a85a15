"""The SAQ queue on PostgreSQL, shared by the web process (enqueue) and workers (dequeue)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from saq import Queue

from app.settings import require_database_url

log = logging.getLogger("aplus.queue")

QUEUE_NAME = "aplus"
_queue: Queue | None = None

# SAQ dequeues the lowest priority first: a login link overtakes any backlog of notifications
# (cron jobs keep SAQ's default 0 too: they are few and each only fans out).
URGENT = 0
NORMAL = 100

# Retries with exponential backoff capped at 30 s: an SMTP outage of tens of minutes is
# retried at least every 30 s for its whole length (~100 tries, ~25 min with SAQ's jitter),
# so mail flows again within a minute of the server's return; beyond that, the sweep
# (every minute) takes over. See docs/decisions/2026-12-01-mail-after-faults.md.
RETRIES = 100
RETRY_DELAY = 1.0
RETRY_BACKOFF_MAX = 30.0
# Longer than one SMTP exchange (aiosmtplib's 30 s timeout), so SAQ never gives up on a
# sending that may still succeed.
TIMEOUT = 60
# The queue has its own connection pool, which after a database restart reconnects with a
# backoff of several seconds: a request must not hang on it. The outbox row is the promise;
# a job not enqueued in time is picked up by the sweep (every minute).
ENQUEUE_TIMEOUT = 2.0


def make_queue() -> Queue:
    return Queue.from_url(require_database_url(), name=QUEUE_NAME)


def set_queue(queue: Queue | None) -> None:
    """Install the process-wide queue (at startup, or by a test fixture)."""
    global _queue
    _queue = queue


async def get_queue() -> Queue:
    global _queue
    if _queue is None:
        queue = make_queue()
        # Installed once connected: a connect cut short (timeout) leaves nothing half-made.
        await queue.connect()
        _queue = queue
    return _queue


async def enqueue(
    function: str, *, key: str | None = None, priority: int = NORMAL, **kwargs: Any
) -> None:
    """Enqueue a job with retries and capped exponential backoff (a down SMTP server loses
    nothing). A key already queued or running is not enqueued twice (SAQ's unique key).

    Gives up after ENQUEUE_TIMEOUT when the queue's database is unreachable: the caller's row
    (an outbox e-mail) stays, and `sweep_outbox` enqueues it once the database is back."""
    try:
        queue = await asyncio.wait_for(get_queue(), ENQUEUE_TIMEOUT)
        await asyncio.wait_for(
            queue.enqueue(
                function,
                key=key,
                priority=priority,
                retries=RETRIES,
                retry_delay=RETRY_DELAY,
                retry_backoff=RETRY_BACKOFF_MAX,
                timeout=TIMEOUT,
                **kwargs,
            ),
            ENQUEUE_TIMEOUT,
        )
    except (TimeoutError, psycopg.OperationalError, OSError) as exc:
        log.warning("%s not enqueued (%s): left to the sweep", function, type(exc).__name__)
