"""Sending the outbox: one job per e-mail, and a sweep for anything left behind."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from app import clock, mailer
from app.jobs.queue import enqueue
from app.tables import OutboxEmail

log = logging.getLogger("aplus.jobs.mail")

SWEEP_CRON = "*/5 * * * *"


class OutboxRowNotVisible(LookupError):
    """The job ran before the transaction that wrote its outbox row committed."""


async def send_email(ctx: dict, *, outbox_id: str) -> str:
    """Send one outbox e-mail; idempotent (a sent e-mail is not sent again)."""
    row = await OutboxEmail.objects().where(OutboxEmail.id == UUID(outbox_id)).first()
    if row is None:
        # E-mails are queued inside the action's transaction, but the queue has its own
        # connection: the worker can see the job before the row. Failing makes SAQ retry
        # shortly; a row that was rolled back never appears and the retries run out.
        raise OutboxRowNotVisible(outbox_id)
    if row.sent_at is not None:
        return "nothing to do"
    message = mailer.build_message(row.recipients, row.subject, row.text, row.html)
    try:
        await mailer.send(message)
    except Exception as exc:
        await OutboxEmail.update(
            {
                OutboxEmail.attempts: OutboxEmail.attempts + 1,
                OutboxEmail.last_error: type(exc).__name__,
            }
        ).where(OutboxEmail.id == row.id)
        # Only the event and id: recipients are personal data.
        log.warning("mail %s (%s) failed: %s", row.id, row.event, type(exc).__name__)
        raise
    await OutboxEmail.update({OutboxEmail.sent_at: clock.now()}).where(OutboxEmail.id == row.id)
    log.info("mail %s (%s) sent", row.id, row.event)
    return "sent"


async def sweep_outbox(ctx: dict) -> int:
    """Re-enqueue e-mails whose jobs gave up or were lost (SMTP down for a long time)."""
    stale = await OutboxEmail.select(OutboxEmail.id).where(
        OutboxEmail.sent_at.is_null()
        & (OutboxEmail.created_at < clock.now() - timedelta(minutes=5))
    )
    for row in stale:
        await enqueue("send_email", key=f"mail:{row['id']}", outbox_id=str(row["id"]))
    return len(stale)
