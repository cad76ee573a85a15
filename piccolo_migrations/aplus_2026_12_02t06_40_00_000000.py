"""The active experts found through an index (docs/decisions/2026-12-02-demande-page-cost.md).

Every demande page an inviting viewer opens asks whether an active expert is not on the
demande yet (the "experts" box of the invite form), and the reminder jobs list the active
experts in order of arrival: both read every account without this partial index (0.4 ms at
3 700 accounts, growing with them). Three experts, a handful of index entries.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial index of the active experts"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="aplus", description=DESCRIPTION)

    async def run():
        await RawSQL.raw(
            "CREATE INDEX IF NOT EXISTS app_user_active_experts ON app_user (created_at)"
            " WHERE is_expert AND disabled_at IS NULL"
        )

    async def run_backwards():
        await RawSQL.raw("DROP INDEX IF EXISTS app_user_active_experts")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
