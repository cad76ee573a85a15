"""The SAQ queue on PostgreSQL, shared by the web process (enqueue) and workers (dequeue)."""

from __future__ import annotations

from typing import Any

from saq import Queue

from app.settings import require_database_url

QUEUE_NAME = "aplus"
_queue: Queue | None = None


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


async def enqueue(function: str, *, key: str | None = None, **kwargs: Any) -> None:
    """Enqueue a job with retries and exponential backoff (a down SMTP server loses nothing)."""
    queue = await get_queue()
    await queue.enqueue(
        function,
        key=key,
        retries=6,
        retry_delay=2.0,
        retry_backoff=True,
        timeout=60,
        **kwargs,
    )
