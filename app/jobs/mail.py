"""Sending the outbox: one job per e-mail, and a sweep for anything left behind.

Delivery is at least once, with a narrow duplicate window (docs/decisions/
2026-12-01-mail-after-faults.md): a worker takes a lease on the row before talking to the
SMTP server, so a retry or the sweep never sends a mail another worker is sending; the
Message-ID is derived from the row, so a receiving server or client can recognise the one
case left (a worker that dies after the server accepted the mail, before it could record it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from saq import CronJob

from app import clock, mailer
from app.emails import OUTBOX_LOCK
from app.jobs.queue import URGENT, enqueue
from app.tables import OutboxEmail

log = logging.getLogger("aplus.jobs.mail")

# Every minute: a mail whose retries ran out during a long outage (or whose worker died)
# goes out within a minute or so of the SMTP server's return.
SWEEP_CRON = "* * * * *"
# What the sweep leaves to a mail's own job: anything younger is still on its first tries,
# seconds apart, so after an outage every mail goes out within a minute of the server's return
# (its own retries, or the next sweep).
SWEEP_AFTER = timedelta(seconds=30)
# Longer than one SMTP exchange (30 s timeout): a lease outlives a live sending, and an
# expired one means its worker is gone.
LEASE = timedelta(seconds=45)


async def _take_lease(outbox_id: UUID) -> OutboxEmail | None:
    """The row, leased to this worker; None when it is sent, being sent, or rolled back."""
    now = clock.now()
    rows = await OutboxEmail.raw(
        "UPDATE outbox_email SET sending_until = {} WHERE id = {} AND sent_at IS NULL"
        " AND (sending_until IS NULL OR sending_until < {}) RETURNING id",
        now + LEASE,
        outbox_id,
        now,
    )
    if not rows:
        return None
    return await OutboxEmail.objects().where(OutboxEmail.id == outbox_id).first()


async def send_email(ctx: dict, *, outbox_id: str) -> str:
    """Send one outbox e-mail; idempotent (a sent e-mail is not sent again)."""
    # Mails queued inside a transaction are enqueued before it commits: wait for its end
    # (queue_email holds this lock until then). No row after that means it was rolled back.
    await OutboxEmail.raw(f"SELECT pg_advisory_xact_lock_shared({OUTBOX_LOCK})", outbox_id)
    row = await _take_lease(UUID(outbox_id))
    if row is None:
        return "nothing to do"
    message = mailer.build_message(
        row.recipients, row.subject, row.text, row.html, message_id=mailer.message_id(row.id)
    )
    try:
        await mailer.send(message)
    except Exception as exc:
        await OutboxEmail.update(
            {
                OutboxEmail.attempts: OutboxEmail.attempts + 1,
                OutboxEmail.last_error: type(exc).__name__,
                OutboxEmail.sending_until: None,
            }
        ).where(OutboxEmail.id == row.id)
        # Only the event and id: recipients are personal data.
        log.warning("mail %s (%s) failed: %s", row.id, row.event, type(exc).__name__)
        raise
    await OutboxEmail.update(
        {OutboxEmail.sent_at: clock.now(), OutboxEmail.sending_until: None}
    ).where(OutboxEmail.id == row.id)
    log.info("mail %s (%s) sent", row.id, row.event)
    return "sent"


async def sweep_outbox(ctx: dict) -> int:
    """Re-enqueue e-mails whose jobs gave up or died (SMTP down for long, a worker killed)."""
    now = clock.now()
    stale = await OutboxEmail.select(OutboxEmail.id, OutboxEmail.urgent).where(
        OutboxEmail.sent_at.is_null()
        & (OutboxEmail.created_at < now - SWEEP_AFTER)
        & (OutboxEmail.sending_until.is_null() | (OutboxEmail.sending_until < now))
    )
    for row in stale:
        # Its own key: the mail's first job may sit "active" for a dead worker until SAQ
        # notices; the lease is what keeps the two from sending at once.
        await enqueue(
            "send_email",
            key=f"mail-sweep:{row['id']}",
            outbox_id=str(row["id"]),
            **({"priority": URGENT} if row["urgent"] else {}),
        )
    return len(stale)


CRON_JOBS = [CronJob(sweep_outbox, cron=SWEEP_CRON, unique=True)]
