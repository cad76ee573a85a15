"""The e-mail outbox: requests write here, workers send."""

from piccolo.columns import UUID, Array, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


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
