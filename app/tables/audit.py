"""The audit log: typed events holding ids only."""

from piccolo.columns import UUID, Array, BigSerial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """Who did what to which ids, from where. Never names or free text."""

    id = BigSerial(primary_key=True)
    code = Varchar(length=60, index=True)
    actor_id = UUID(null=True, default=None, index=True)
    target_user_id = UUID(null=True, default=None)
    target_group_id = UUID(null=True, default=None)
    target_application_id = UUID(null=True, default=None)
    target_file_id = UUID(null=True, default=None)
    client_address = Varchar(length=45, default="")
    # For edits: the names of the fields that changed, never their values.
    changed_fields = Array(base_column=Varchar(length=60), default=list)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
