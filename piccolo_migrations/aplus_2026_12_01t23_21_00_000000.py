"""Who reads private answers is a fact of each participation, not of the viewer's roles
(docs/decisions/2026-12-01-private-answers-per-demande.md).

`participation.reads_content` and `participation.reads_private` (added by the previous
migration) say what this participant reads on this demande: they mirror
`policies.can_read_application` and `policies.can_read_private_answers` for someone with a
participation. Triggers keep them true whatever code writes: a new or changed participation
(creator flag, demande status copied by `aplus_application_inbox_changed`), and a change of
the user's instructeur or expert flag. The inbox reads them per row for its search, its
message and unread counts, and to leave out demandes an expert no longer reads.

Not wrapped in a transaction, so every statement is idempotent: the backfill rewrites every
participation, and an index built in the transaction that made those dead row versions would
index them too (measured: `participation_inbox` 2.3 times less dense, twice the pages read
by every inbox count). The dead versions are vacuumed first, then the table's indexes are
rebuilt without blocking reads or writes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T23:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "participation rights: triggers, backfill, inbox index"

STATEMENTS = [
    # Mirror of policies.can_read_application for a participant (creator or invited):
    # experts read a demande only while it is open, unless they created it.
    """
    CREATE OR REPLACE FUNCTION aplus_reads_content(
      is_creator boolean, is_expert boolean, app_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT is_creator OR NOT (is_expert AND app_status = 'archived')
    $$
    """,
    # Mirror of policies.can_read_private_answers: invited (never the creator), instructeur or
    # expert, and reading the demande at all.
    """
    CREATE OR REPLACE FUNCTION aplus_reads_private(
      is_creator boolean, is_instructor boolean, is_expert boolean, app_status text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT NOT is_creator AND (is_instructor OR is_expert)
        AND aplus_reads_content(is_creator, is_expert, app_status)
    $$
    """,
    # Named to run after participation_fill (BEFORE triggers run in name order), which sets
    # app_status on a new row.
    """
    CREATE OR REPLACE FUNCTION aplus_participation_rights() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      SELECT aplus_reads_content(NEW.is_creator, u.is_expert, NEW.app_status),
             aplus_reads_private(NEW.is_creator, u.is_instructor, u.is_expert, NEW.app_status)
        INTO NEW.reads_content, NEW.reads_private
        FROM app_user u WHERE u.id = NEW."user";
      RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS participation_rights ON participation",
    """
    CREATE TRIGGER participation_rights
    BEFORE INSERT OR UPDATE OF is_creator, "user", app_status ON participation
    FOR EACH ROW EXECUTE FUNCTION aplus_participation_rights()
    """,
    # Granting or removing the instructeur role changes what the thread shows at once, on
    # every demande of the user: so do their participations.
    """
    CREATE OR REPLACE FUNCTION aplus_user_roles_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation p SET
        reads_content = aplus_reads_content(p.is_creator, NEW.is_expert, p.app_status),
        reads_private = aplus_reads_private(
          p.is_creator, NEW.is_instructor, NEW.is_expert, p.app_status)
      WHERE p."user" = NEW.id;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS user_roles_changed ON app_user",
    """
    CREATE TRIGGER user_roles_changed
    AFTER UPDATE OF is_instructor, is_expert ON app_user
    FOR EACH ROW WHEN (
      OLD.is_instructor IS DISTINCT FROM NEW.is_instructor
      OR OLD.is_expert IS DISTINCT FROM NEW.is_expert)
    EXECUTE FUNCTION aplus_user_roles_changed()
    """,
    # The inbox index changes shape below; without it the backfill has one index less to
    # write.
    "DROP INDEX IF EXISTS participation_inbox",
    # Existing rows (only those whose value changes).
    """
    UPDATE participation p SET
      reads_content = aplus_reads_content(p.is_creator, u.is_expert, p.app_status),
      reads_private = aplus_reads_private(p.is_creator, u.is_instructor, u.is_expert, p.app_status)
    FROM app_user u WHERE u.id = p."user"
      AND (p.reads_content, p.reads_private) IS DISTINCT FROM (
        aplus_reads_content(p.is_creator, u.is_expert, p.app_status),
        aplus_reads_private(p.is_creator, u.is_instructor, u.is_expert, p.app_status))
    """,
    "VACUUM (ANALYZE) participation",
    "REINDEX TABLE CONCURRENTLY participation",
    # The inbox filters and counts on both columns: carried by its index so every tab and
    # count stays an index-only scan.
    'CREATE INDEX CONCURRENTLY participation_inbox ON participation ("user", app_status,'
    " app_updated_at DESC, application DESC)"
    " INCLUDE (last_seen_at, app_late_at, app_groups, reads_content, reads_private)",
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
