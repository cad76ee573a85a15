"""Canned replies ("réponses types") of a group (app/domain/canned_replies.py).

Short texts a group's members insert into a reply. The per-group limit and the length limits
are checked by the domain before writing; the CHECKs here only keep a bug from storing more.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "canned replies of a group"

STATEMENTS = [
    """
    CREATE TABLE canned_reply (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "group" uuid NOT NULL REFERENCES app_group (id) ON DELETE CASCADE,
        title varchar(80) NOT NULL CHECK (length(title) > 0),
        text text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
        created_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL,
        updated_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    'CREATE INDEX canned_reply_group ON canned_reply ("group", title)',
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
