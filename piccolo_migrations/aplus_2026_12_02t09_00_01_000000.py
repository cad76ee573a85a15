"""Participants who do not read private answers sort and date their inbox by the activity they
can see (`application.public_updated_at`), not by the last private exchange
(docs/decisions/2026-12-02-private-activity.md).

`participation.app_updated_at` becomes, for each participant, `updated_at` if they read the
private answers (`reads_private`) and `public_updated_at` otherwise. It is set where
`reads_private` is: by `participation_rights` (insert, change of status or creator), by
`user_roles_changed` (a role granted or removed), and by `application_inbox_changed` when
the demande's activity moves.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox order and dates without the private activity for those who cannot read it"

STATEMENTS = [
    # The last thread entry everyone can read, else the creation (state.derive_state).
    """
    UPDATE application a SET public_updated_at = coalesce(
      (SELECT max(t.created_at) FROM answer t
        WHERE t.application = a.id AND t.visibility = 'public'), a.created_at)
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_application_inbox_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation SET
        app_status = NEW.status,
        app_updated_at = CASE WHEN reads_private THEN NEW.updated_at
                              ELSE NEW.public_updated_at END,
        app_late_at = NEW.late_at,
        app_groups = CASE WHEN NEW.creator_group IS DISTINCT FROM OLD.creator_group
                          THEN aplus_application_groups(NEW.id) ELSE app_groups END
      WHERE application = NEW.id;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS application_inbox_changed ON application",
    """
    CREATE TRIGGER application_inbox_changed
    AFTER UPDATE OF status, updated_at, public_updated_at, late_at, creator_group
    ON application
    FOR EACH ROW WHEN (
      OLD.status IS DISTINCT FROM NEW.status
      OR OLD.updated_at IS DISTINCT FROM NEW.updated_at
      OR OLD.public_updated_at IS DISTINCT FROM NEW.public_updated_at
      OR OLD.late_at IS DISTINCT FROM NEW.late_at
      OR OLD.creator_group IS DISTINCT FROM NEW.creator_group)
    EXECUTE FUNCTION aplus_application_inbox_changed()
    """,
    # Runs after participation_fill on insert, and on every update that sets app_status (the
    # one above included): `reads_private` may change with the status, so the date follows.
    """
    CREATE OR REPLACE FUNCTION aplus_participation_rights() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      SELECT aplus_reads_content(NEW.is_creator, u.is_expert, NEW.app_status),
             aplus_reads_private(NEW.is_creator, u.is_instructor, u.is_expert, NEW.app_status)
        INTO NEW.reads_content, NEW.reads_private
        FROM app_user u WHERE u.id = NEW."user";
      SELECT CASE WHEN NEW.reads_private THEN a.updated_at ELSE a.public_updated_at END
        INTO NEW.app_updated_at
        FROM application a WHERE a.id = NEW.application;
      RETURN NEW;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_user_roles_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation p SET
        reads_content = aplus_reads_content(p.is_creator, NEW.is_expert, p.app_status),
        reads_private = aplus_reads_private(
          p.is_creator, NEW.is_instructor, NEW.is_expert, p.app_status),
        app_updated_at = CASE
          WHEN aplus_reads_private(p.is_creator, NEW.is_instructor, NEW.is_expert, p.app_status)
          THEN a.updated_at ELSE a.public_updated_at END
      FROM application a
      WHERE p."user" = NEW.id AND a.id = p.application;
      RETURN NULL;
    END $$
    """,
    # Existing participations (only those whose date changes).
    """
    UPDATE participation p SET app_updated_at = CASE WHEN p.reads_private THEN a.updated_at
                                                     ELSE a.public_updated_at END
      FROM application a
     WHERE a.id = p.application
       AND p.app_updated_at IS DISTINCT FROM (
         CASE WHEN p.reads_private THEN a.updated_at ELSE a.public_updated_at END)
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
