"""The outbox: a request only enqueues, a real worker sends, nothing is lost or sent twice."""

from __future__ import annotations

import asyncio

import pytest

from app import clock, emails
from app.jobs import mail
from app.jobs.queue import enqueue
from app.piccolo_conf import DB
from app.tables import OutboxEmail

ADDRESS = "nouvel.agent@exemple.gouv.fr"


@pytest.fixture
def smtp_down(mailbox):
    """The SMTP sink stopped for the test, and restarted after it whatever happens."""
    mailbox.stop()
    yield
    mailbox.start()


async def _outbox_row() -> OutboxEmail:
    return await OutboxEmail.objects().where(OutboxEmail.recipients.any(ADDRESS)).first()


async def test_queued_mail_is_sent_by_the_worker_only(db, mailbox, run_jobs):
    await emails.welcome(ADDRESS, created_by_group="CAF de Paris")

    row = await _outbox_row()
    assert row is not None and row.sent_at is None
    assert mailbox.to(ADDRESS) == []

    await run_jobs()

    [message] = mailbox.to(ADDRESS)
    assert message.subject.startswith("[A+] ")
    assert "Bienvenue" in message.subject
    assert "CAF de Paris" in message.text
    assert "http://testserver/connexion" in message.links
    assert '<a href="http://testserver/connexion">' in message.html
    row = await _outbox_row()
    assert row.sent_at is not None
    assert row.attempts == 0


async def test_sending_is_idempotent(db, mailbox, run_jobs):
    await emails.welcome(ADDRESS)
    await run_jobs()
    assert len(mailbox.to(ADDRESS)) == 1
    row = await _outbox_row()

    # The same job enqueued again (a retry after a lost acknowledgement) finds it sent, and
    # the sweep leaves sent mails alone.
    await enqueue("send_email", key=f"mail:{row.id}", outbox_id=str(row.id))
    clock.travel(10 * 60)
    assert await mail.sweep_outbox({}) == 0
    await run_jobs()

    assert len(mailbox.to(ADDRESS)) == 1


async def test_smtp_down_loses_nothing_and_the_sweep_delivers_later(
    db, mailbox, smtp_down, run_jobs
):
    subject, text, html = emails.render_email("welcome", {"login_url": "http://testserver/x"})
    row = OutboxEmail(event="welcome", recipients=[ADDRESS], subject=subject, text=text, html=html)
    await row.save()

    with pytest.raises(OSError):
        await mail.send_email({}, outbox_id=str(row.id))
    with pytest.raises(OSError):
        await mail.send_email({}, outbox_id=str(row.id))

    failed = await _outbox_row()
    assert failed.sent_at is None
    assert failed.attempts == 2
    assert failed.last_error  # the exception type only, never the address
    assert ADDRESS not in failed.last_error

    mailbox.start()
    try:
        # Too recent for the sweep: its own job may still be retrying.
        assert await mail.sweep_outbox({}) == 0
        clock.travel(6 * 60)
        assert await mail.sweep_outbox({}) == 1
        await run_jobs()
    finally:
        mailbox.stop()  # the fixture restarts it

    [message] = mailbox.to(ADDRESS)
    assert "http://testserver/x" in message.links
    assert (await _outbox_row()).sent_at is not None


async def test_a_failing_job_under_the_worker_keeps_the_mail(db, mailbox, smtp_down, run_jobs):
    await emails.welcome(ADDRESS)

    await run_jobs()

    row = await _outbox_row()
    assert row.sent_at is None
    # The worker may already have retried once within its burst: each try is counted.
    assert row.attempts >= 1
    assert row.last_error == "SMTPConnectError"


async def _until_a_lock_is_awaited(job: asyncio.Task, within: float = 10) -> None:
    """Until a session of this database waits for an advisory lock (or the job ended)."""
    deadline = asyncio.get_running_loop().time() + within
    while not job.done():
        rows = await OutboxEmail.raw(
            "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted"
        )
        if rows[0]["n"]:
            return
        assert asyncio.get_running_loop().time() < deadline, "the job never waited for the lock"
        await asyncio.sleep(0.05)


async def _job_racing_a_transaction(outcome: str) -> str:
    """Queue a mail in a transaction on one connection, start its job on another before the
    transaction ends, then end it with `outcome`; what the job answered."""
    queued, release = asyncio.Event(), asyncio.Event()
    ids = []

    async def writer() -> None:
        async with DB.transaction() as transaction:
            row = await emails.queue_email("welcome", [ADDRESS], {"login_url": "http://x/"})
            ids.append(row.id)
            queued.set()
            await release.wait()
            if outcome == "rollback":
                await transaction.rollback()

    writing = asyncio.create_task(writer())
    await queued.wait()
    job = asyncio.create_task(mail.send_email({}, outbox_id=str(ids[0])))
    # The job reached the outbox lock and PostgreSQL made it wait for the transaction.
    await _until_a_lock_is_awaited(job)
    assert not job.done()  # the job waits for the transaction instead of finding no row
    release.set()
    await writing
    try:
        return await asyncio.wait_for(job, 5)
    finally:
        await OutboxEmail.delete().where(OutboxEmail.id == ids[0])


async def test_a_job_faster_than_the_commit_waits_and_sends(migrated, job_queue, mailbox):
    assert await _job_racing_a_transaction("commit") == "sent"
    assert len(mailbox.to(ADDRESS)) == 1


async def test_a_job_of_a_rolled_back_mail_sends_nothing(migrated, job_queue, mailbox):
    assert await _job_racing_a_transaction("rollback") == "nothing to do"
    assert mailbox.to(ADDRESS) == []
