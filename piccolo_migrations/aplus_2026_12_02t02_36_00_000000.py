"""The inbox version of each user: a number that moves whenever anything their inbox shows
changes (docs/decisions/2026-12-02-inbox-version.md).

`app_user.inbox_version` (added by the previous migration) is bumped in the same
transaction as the change, by triggers, so no code path can forget it: a participation
added, changed (status, lateness, last activity, read mark, rights: all copied there by the
existing triggers) or removed; a demande's subject, usager name or erasure; an answer
added, changed or removed (message and unread counts); a group renamed (the group filter
shows names). The inbox serves its counts from a per-viewer
cache keyed by this version and derives its ETag from it.

The triggers only collect the users (a transaction-local setting); a deferred constraint
trigger bumps them at commit, rows locked in id order, once every other lock of the
transaction is held: two committing transactions wait for each other instead of deadlocking.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T02:36:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox version: the triggers that bump it"

STATEMENTS = [
    # Collects the users whose inbox changed in a transaction-local setting (no lock); the
    # first collection of a transaction queues the flush through a marker row.
    """
    CREATE UNLOGGED TABLE IF NOT EXISTS inbox_bump_pending (txid bigint PRIMARY KEY)
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_bump_inbox(users uuid[]) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
      pending text := coalesce(current_setting('aplus.inbox_bump', true), '');
    BEGIN
      IF users IS NULL OR cardinality(users) = 0 THEN
        RETURN;
      END IF;
      PERFORM set_config('aplus.inbox_bump', pending || ' ' || array_to_string(users, ' '), true);
      IF pending = '' THEN
        INSERT INTO inbox_bump_pending VALUES (txid_current()) ON CONFLICT DO NOTHING;
      END IF;
    END $$
    """,
    # Runs at commit (deferred), once the transaction holds every other lock it will take:
    # the collected users' rows are locked in id order and bumped. Bumping at once, inside
    # each statement, deadlocked: a read mark (participation row, then the user's row)
    # against a new answer on the same demande (the users' rows, then the participations).
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_flush() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
      pending text := coalesce(current_setting('aplus.inbox_bump', true), '');
      users uuid[];
    BEGIN
      PERFORM set_config('aplus.inbox_bump', '', true);
      DELETE FROM inbox_bump_pending WHERE txid = NEW.txid;
      users := ARRAY(SELECT DISTINCT u::uuid FROM unnest(string_to_array(trim(pending), ' ')) u
                     ORDER BY 1);
      PERFORM 1 FROM app_user WHERE id = ANY(users) ORDER BY id FOR NO KEY UPDATE;
      UPDATE app_user SET inbox_version = inbox_version + 1 WHERE id = ANY(users);
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS inbox_bump_flush ON inbox_bump_pending",
    """
    CREATE CONSTRAINT TRIGGER inbox_bump_flush AFTER INSERT ON inbox_bump_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION aplus_inbox_flush()
    """,
    # participation: statement-level, one bump per user however many rows a statement touches
    # (a demande's status copied to its thirty participants, a bulk load).
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_participation_new() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(SELECT DISTINCT "user" FROM new_rows));
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_participation_old() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(SELECT DISTINCT "user" FROM old_rows));
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS participation_inbox_version_added ON participation",
    """
    CREATE TRIGGER participation_inbox_version_added AFTER INSERT ON participation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_participation_new()
    """,
    # Opening a demande read up to its last activity moves only `last_seen_at`, which the
    # inbox shows nowhere then (no unread message either way): no bump, so every view of a
    # demande page does not cost a lock and write of the viewer's row nor empty their cache.
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_participation_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(
        SELECT DISTINCT n."user" FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE to_jsonb(n) - 'last_seen_at' IS DISTINCT FROM to_jsonb(o) - 'last_seen_at'
          OR (n.last_seen_at IS DISTINCT FROM o.last_seen_at
              AND NOT coalesce(o.last_seen_at >= o.app_updated_at
                               AND n.last_seen_at >= o.last_seen_at, false))));
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS participation_inbox_version_changed ON participation",
    """
    CREATE TRIGGER participation_inbox_version_changed AFTER UPDATE ON participation
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_participation_changed()
    """,
    "DROP TRIGGER IF EXISTS participation_inbox_version_removed ON participation",
    """
    CREATE TRIGGER participation_inbox_version_removed AFTER DELETE ON participation
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_participation_old()
    """,
    # answer: the message and unread counts of every participant's row.
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_answer_new() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(SELECT DISTINCT p."user" FROM participation p
        WHERE p.application IN (SELECT application FROM new_rows)));
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_answer_old() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(SELECT DISTINCT p."user" FROM participation p
        WHERE p.application IN (SELECT application FROM old_rows)));
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS answer_inbox_version_added ON answer",
    """
    CREATE TRIGGER answer_inbox_version_added AFTER INSERT ON answer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_answer_new()
    """,
    "DROP TRIGGER IF EXISTS answer_inbox_version_changed ON answer",
    """
    CREATE TRIGGER answer_inbox_version_changed AFTER UPDATE ON answer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_answer_new()
    """,
    "DROP TRIGGER IF EXISTS answer_inbox_version_removed ON answer",
    """
    CREATE TRIGGER answer_inbox_version_removed AFTER DELETE ON answer
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_inbox_answer_old()
    """,
    # application: what a row shows that is not copied to participation.
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_application_shown() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(
        SELECT p."user" FROM participation p WHERE p.application = NEW.id));
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS application_inbox_version ON application",
    """
    CREATE TRIGGER application_inbox_version
    AFTER UPDATE OF subject, usager_first_name, usager_last_name, personal_data_wiped_at
    ON application
    FOR EACH ROW WHEN (
      OLD.subject IS DISTINCT FROM NEW.subject
      OR OLD.usager_first_name IS DISTINCT FROM NEW.usager_first_name
      OR OLD.usager_last_name IS DISTINCT FROM NEW.usager_last_name
      OR OLD.personal_data_wiped_at IS DISTINCT FROM NEW.personal_data_wiped_at)
    EXECUTE FUNCTION aplus_inbox_application_shown()
    """,
    # app_group: the group filter lists the viewer's groups by name.
    """
    CREATE OR REPLACE FUNCTION aplus_inbox_group_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_bump_inbox(ARRAY(
        SELECT m."user" FROM membership m WHERE m."group" = NEW.id));
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS group_inbox_version ON app_group",
    """
    CREATE TRIGGER group_inbox_version AFTER UPDATE OF name ON app_group
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION aplus_inbox_group_renamed()
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
