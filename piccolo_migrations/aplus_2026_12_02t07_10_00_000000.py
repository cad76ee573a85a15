"""The inbox index carries `is_creator`: every tab's page becomes an index-only scan
(docs/decisions/2026-12-02-search-counts.md, "En souffrance").

A page reads `is_creator` (the row's status label) from each participation it lists. Without it
in the index, each index entry a tab walks costs a heap visit, and "En souffrance" walks every
open demande of the viewer updated since its late ones (1 800 at 1 M demandes for the bench
instructeur, 1 850 heap pages for 26 rows). With it, that walk stays in the index.

Not wrapped in a transaction (`CONCURRENTLY`): the new index is built beside the old one
without blocking reads or writes, then takes its name. Each statement can run again after a
failure.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox index: is_creator in its INCLUDE list"

STATEMENTS = [
    # A build interrupted earlier leaves an invalid index behind.
    "DROP INDEX CONCURRENTLY IF EXISTS participation_inbox_next",
    'CREATE INDEX CONCURRENTLY participation_inbox_next ON participation ("user", app_status,'
    " app_updated_at DESC, application DESC)"
    " INCLUDE (last_seen_at, app_late_at, app_groups, reads_content, reads_private, is_creator)",
    "DROP INDEX CONCURRENTLY IF EXISTS participation_inbox",
    "ALTER INDEX participation_inbox_next RENAME TO participation_inbox",
]


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="aplus", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def run():
        for statement in STATEMENTS:
            await RawSQL.raw(statement)

    manager.add_raw(run)
    return manager
