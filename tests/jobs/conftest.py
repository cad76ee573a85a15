"""Jobs tests share one queue table with every real worker the suite starts."""

import pytest


@pytest.fixture(autouse=True)
async def no_cron_ticks_left_over(job_queue):
    """Forget cron ticks other tests' workers queued for later (`cron:<job>` keys).

    A real worker (`aplus worker` in the fault tests, the two-worker tests) schedules each
    cron job's next tick under the job's unique key; SAQ then ignores any other enqueue by that
    key, so a test enqueueing `cron:wipe_personal_data` itself would wait for tomorrow.
    """
    async with job_queue.pool.connection() as conn:
        await conn.execute("DELETE FROM saq_jobs WHERE key LIKE 'cron:%'")
    yield
