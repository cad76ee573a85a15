"""The SAQ queue on PostgreSQL, shared by the web process (enqueue) and workers (dequeue)."""

from __future__ import annotations

from typing import Any

from saq import Queue

from app.settings import require_database_url

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


def make_queue() -> Queue:
    return Queue.from_url(require_database_url(), name=QUEUE_NAME)


def set_queue(queue: Queue | None) -> None:
    """Install the process-wide queue (at startup, or by a test fixture)."""
    global _queue
    _queue = queue


async def get_queue() -> Queue:
    global _queue
    if _queue is None:
        _queue = make_queue()
        await _queue.connect()
    return _queue


async def enqueue(
    function: str, *, key: str | None = None, priority: int = NORMAL, **kwargs: Any
) -> None:
    """Enqueue a job with retries and capped exponential backoff (a down SMTP server loses
    nothing). A key already queued or running is not enqueued twice (SAQ's unique key)."""
    queue = await get_queue()
    await queue.enqueue(
        function,
        key=key,
        priority=priority,
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        retry_backoff=RETRY_BACKOFF_MAX,
        timeout=TIMEOUT,
        **kwargs,
    )
