"""Presence on a demande page ("X consulte cette demande", app/domain/presence.py).

One row per (demande, user), refreshed by the page's polling fragment; a row older than the
expiry is simply not shown and is deleted by the next heartbeat on that demande. Unlogged:
presence is worth nothing after a crash, and its writes every few seconds skip the WAL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T00:41:17:318204"
VERSION = "1.38.0"
DESCRIPTION = "presence on a demande page"

STATEMENTS = [
    """
    CREATE UNLOGGED TABLE application_presence (
        application uuid NOT NULL REFERENCES application (id) ON DELETE CASCADE,
        "user" uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        writing boolean NOT NULL DEFAULT false,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (application, "user")
    )
    """,
]


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="aplus", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await RawSQL.raw(statement)

    manager.add_raw(run)
    return manager
