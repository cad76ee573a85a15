"""Mail after faults (issue 10, item 7): a long SMTP outage, a worker killed while sending,
and login links ahead of a backlog. Real SMTP servers, real SAQ workers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from support.jobs import drain, paris, set_clock
from support.smtp import free_port
from support.testenv import ROOT

from app import emails, mailer
from app.jobs import mail, queue
from app.tables import OutboxEmail

pytest_plugins = ["support.jobs"]


@pytest.fixture
def smtp_down(mailbox):
    mailbox.stop()
    yield
    if not mailbox.running:
        mailbox.start()


def test_the_retry_schedule_spans_tens_of_minutes_in_steps_under_a_minute():
    delays = [
        min(queue.RETRY_BACKOFF_MAX, queue.RETRY_DELAY * 2 ** max(n - 1, 0))
        for n in range(1, queue.RETRIES + 1)
    ]
    # SAQ draws each delay between 0 and these bounds: half of them on average.
    assert sum(delays) / 2 >= 20 * 60
    assert max(delays) <= 30
    # After the retries, the sweep takes over every minute.
    assert mail.SWEEP_CRON == "* * * * *" and mail.SWEEP_AFTER <= timedelta(minutes=1)


async def _status(job_queue, key: str) -> str | None:
    job = await job_queue.job(key)
    return job.status if job else None


async def test_smtp_down_past_the_retries_then_up_delivers_each_mail_once(
    db, mailbox, smtp_down, job_queue, tick, monkeypatch
):
    # A long outage in a short test: a mail's own job gives up after two tries.
    monkeypatch.setattr(queue, "RETRIES", 2)
    monkeypatch.setattr(queue, "RETRY_DELAY", 0.2)
    set_clock(paris(2026, 3, 10, 9, 0, 10))
    rows = [
        await emails.queue_email("welcome", [f"agent{i}@caf.fr"], {"login_url": "http://x/"})
        for i in range(5)
    ]
    keys = [f"mail:{row.id}" for row in rows]
    for _ in range(100):
        await drain(job_queue)
        if all([await _status(job_queue, key) == "failed" for key in keys]):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the mail jobs never ran out of retries")
    for row in rows:
        failed = await OutboxEmail.objects().get(OutboxEmail.id == row.id)
        assert failed.sent_at is None and failed.attempts == 2
        assert failed.sending_until is None  # a failed try gives its lease back

    mailbox.start()  # the server is back at 9:00:30; the sweep's next minute is 9:01
    assert "sweep_outbox" in await tick(paris(2026, 3, 10, 9, 1))
    for i, row in enumerate(rows):
        [message] = mailbox.to(f"agent{i}@caf.fr")
        assert message.message_id == mailer.message_id(row.id)
    # Later sweeps, and the mails' own jobs enqueued again, send nothing more.
    for row in rows:
        await queue.enqueue("send_email", key=f"mail:{row.id}", outbox_id=str(row.id))
    await tick(paris(2026, 3, 10, 9, 2))
    assert len(mailbox.messages) == 5


async def test_a_mail_being_sent_is_left_alone_by_the_sweep_until_its_lease_ends(
    db, mailbox, job_queue
):
    set_clock(paris(2026, 3, 10, 9, 0))
    row = await emails.queue_email("welcome", ["lent@caf.fr"], {"login_url": "http://x/"})
    # Another worker holds it (it is talking to the SMTP server).
    assert await mail._take_lease(row.id) is not None
    set_clock(paris(2026, 3, 10, 9, 0, 40))
    assert await mail.send_email({}, outbox_id=str(row.id)) == "nothing to do"
    set_clock(paris(2026, 3, 10, 9, 2))
    # Past its lease, that worker is presumed dead: the sweep sends it.
    assert await mail.sweep_outbox({}) == 1
    await drain(job_queue)
    assert len(mailbox.to("lent@caf.fr")) == 1


async def test_login_links_overtake_a_backlog_of_notifications(db, mailbox, job_queue):
    for i in range(30):
        await emails.new_answer(f"agent{i}@caf.fr", "http://testserver/demandes/x")
    await emails.login_link(
        "presse@fs.fr", "http://testserver/connexion/lien/t", paris(2026, 3, 10, 9, 30)
    )
    await drain(job_queue)
    assert len(mailbox.messages) == 31
    assert mailbox.messages[0].to == ["presse@fs.fr"]


class HangingSmtp:
    """An SMTP server that takes the whole message and then never answers it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.receiving = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.receiving.set()
        await asyncio.sleep(60)
        return "250 OK"


async def test_a_worker_killed_while_sending_leads_to_a_retry(migrated, job_queue, mailbox):
    hanging = HangingSmtp()
    hanging.controller.start()
    row = await emails.queue_email("welcome", ["tue@caf.fr"], {"login_url": "http://x/"})
    env = {**os.environ, "SMTP_URL": f"smtp://127.0.0.1:{hanging.port}", "PYTHONPATH": str(ROOT)}
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert await asyncio.to_thread(hanging.receiving.wait, 60), "the worker never sent"
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), 10)
        killed = await OutboxEmail.objects().get(OutboxEmail.id == row.id)
        assert killed.sent_at is None and killed.sending_until is not None

        # Its lease runs out; the sweep hands the mail to a live worker.
        from app import clock

        clock.travel((mail.LEASE + mail.SWEEP_AFTER).total_seconds())
        await job_queue.enqueue("sweep_outbox", key="test-sweep-after-kill")
        await drain(job_queue)
        [message] = mailbox.to("tue@caf.fr")
        assert message.message_id == mailer.message_id(row.id)
        assert (await OutboxEmail.objects().get(OutboxEmail.id == row.id)).sent_at is not None
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        hanging.controller.stop()
        await OutboxEmail.delete().where(OutboxEmail.id == row.id)
        from app import clock

        clock.reset()
