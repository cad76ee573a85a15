"""Composite and partial indexes the ORM cannot declare, designed for the inbox (spec §4.4)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox and lookup indexes"

STATEMENTS = [
    # One participation per person and demande; the inbox starts from the user.
    "CREATE UNIQUE INDEX participation_user_application ON participation (user, application)",
    "CREATE INDEX participation_application ON participation (application)",
    "CREATE UNIQUE INDEX application_group_unique ON application_group (application, \"group\")",
    "CREATE UNIQUE INDEX membership_user_group ON membership (user, \"group\")",
    # The thread in order.
    "CREATE INDEX answer_application_created ON answer (application, created_at)",
    # Inbox sort and keyset pagination, and the late-demande reminder job.
    "CREATE INDEX application_updated ON application (updated_at DESC, id DESC)",
    "CREATE INDEX application_late_open ON application (late_at)"
    " WHERE status IN ('new', 'in_progress')",
    # Retention job: archived demandes whose personal data is still there.
    "CREATE INDEX application_archived_unwiped ON application (archived_at)"
    " WHERE personal_data_wiped_at IS NULL AND archived_at IS NOT NULL",
    "CREATE INDEX attachment_live_created ON attachment (created_at) WHERE deleted_at IS NULL",
    "CREATE INDEX rate_limit_key_time ON rate_limit_hit (key, created_at)",
    "CREATE INDEX login_token_expires ON login_token (expires_at)",
    "CREATE INDEX audit_event_application ON audit_event (target_application_id)"
    " WHERE target_application_id IS NOT NULL",
    "CREATE INDEX outbox_unsent ON outbox_email (created_at) WHERE sent_at IS NULL",
    "CREATE INDEX app_group_areas ON app_group USING gin (areas)",
]


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="aplus", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await RawSQL.raw(statement.replace("(user,", '("user",'))

    manager.add_raw(run)
    return manager
