"""The e-mail outbox: requests write here, workers send."""

from piccolo.columns import UUID, Array, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.tables.applications import Application
from app.tables.users import User


class OutboxEmail(Table, tablename="outbox_email"):
    """A rendered e-mail waiting to be sent (or sent); kept for retries and the purge job."""

    id = UUID(primary_key=True)
    event = Varchar(length=40)
    recipients = Array(base_column=Varchar(length=254))
    subject = Varchar(length=300)
    html = Text()
    text = Text()
    # Login links jump the queue.
    urgent = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    last_error = Varchar(length=300, default="")
    sent_at = Timestamptz(null=True, default=None, index=True)
    # A worker sending it holds it until then: another worker (a retry, the sweep) leaves it
    # alone meanwhile, which narrows the window for a double delivery (see jobs.mail).
    sending_until = Timestamptz(null=True, default=None)


class DigestEntry(Table, tablename="digest_entry"):
    """An event held for a user's daily digest instead of its own e-mail (ids only)."""

    id = BigSerial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    application = ForeignKey(references=Application, on_delete=OnDelete.cascade)
    # new_application | new_answer | invitation
    event = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())


class ReminderMark(Table, tablename="reminder_mark"):
    """A reminder already sent or an action already taken, so a job never repeats it.

    The key names the occasion with ids and dates only, e.g. `late:<demande>:<late_at>`; its
    unique index is what makes two workers, or a run by hand, act once.
    """

    id = BigSerial(primary_key=True)
    key = Varchar(length=160, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
