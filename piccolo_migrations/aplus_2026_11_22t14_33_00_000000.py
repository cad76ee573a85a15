"""Inbox machinery the ORM cannot declare (spec §4.4; docs/decisions/2026-11-22-inbox-*.md).

- `aplus_fold(text)`: lower-case and accent-free text, since the embedded PostgreSQL has no
  `unaccent` extension; `app.domain.inbox.fold` is its Python twin for search queries.
- Full-text columns on `application`: `search_public` (what aidants may read) and
  `search_private` (instructor-only messages), kept separate so an aidant's search can never
  match a private message. Rebuilt by triggers whenever their sources change.
- Triggers copying the demande's status, sort key, lateness and groups onto each
  `participation`, so one index per user serves every tab, count and page.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T14:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox: denormalised participation columns, search vectors, triggers, indexes"

FOLD_FROM = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzsoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"

STATEMENTS = [
    f"""
    CREATE OR REPLACE FUNCTION aplus_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(translate(
        replace(replace(replace(replace(replace(coalesce(t, ''),
          'Œ', 'oe'), 'œ', 'oe'), 'Æ', 'ae'), 'æ', 'ae'), 'ß', 'ss'),
        '{FOLD_FROM}', '{FOLD_TO}'))
    $$
    """,
    # Identifiers are indexed as typed and without spaces ("1 85 03…" and "18503…").
    """
    CREATE OR REPLACE FUNCTION aplus_field_values(fields jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(string_agg(v || ' ' || replace(v, ' ', ''), ' '), '')
      FROM (SELECT f->>'value' AS v FROM jsonb_array_elements(
              CASE WHEN jsonb_typeof(fields) = 'array' THEN fields ELSE '[]'::jsonb END) f) x
      WHERE v IS NOT NULL
    $$
    """,
    "ALTER TABLE application ADD COLUMN search_public tsvector NOT NULL DEFAULT ''::tsvector",
    "ALTER TABLE application ADD COLUMN search_private tsvector NOT NULL DEFAULT ''::tsvector",
    """
    CREATE OR REPLACE FUNCTION aplus_reindex_search(app_ids uuid[]) RETURNS void
    LANGUAGE sql AS $$
      UPDATE application a SET
        search_public = to_tsvector('french', aplus_fold(concat_ws(' ',
          a.subject, a.usager_first_name, a.usager_last_name, a.signature, a.description,
          aplus_field_values(a.usager_fields),
          (SELECT string_agg(concat_ws(' ', t.body, t.signature,
                                       aplus_field_values(t.added_fields)), ' '
                             ORDER BY t.created_at, t.id)
             FROM answer t WHERE t.application = a.id AND t.visibility = 'public'),
          (SELECT string_agg(concat_ws(' ', u.first_name, u.last_name), ' '
                             ORDER BY p.created_at, p.id)
             FROM participation p JOIN app_user u ON u.id = p."user"
            WHERE p.application = a.id)))),
        search_private = to_tsvector('french', aplus_fold(
          (SELECT string_agg(concat_ws(' ', t.body, t.signature), ' ' ORDER BY t.created_at, t.id)
             FROM answer t WHERE t.application = a.id AND t.visibility <> 'public')))
      WHERE a.id = ANY(app_ids)
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_application_groups(app_id uuid) RETURNS uuid[]
    LANGUAGE sql STABLE AS $$
      SELECT coalesce(array_agg(DISTINCT g), ARRAY[]::uuid[]) FROM (
        SELECT ag."group" AS g FROM application_group ag WHERE ag.application = app_id
        UNION ALL
        SELECT a.creator_group FROM application a
         WHERE a.id = app_id AND a.creator_group IS NOT NULL) x
    $$
    """,
    # --- application: its own content changed -> rebuild its vectors.
    """
    CREATE OR REPLACE FUNCTION aplus_application_content_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_reindex_search(ARRAY[NEW.id]);
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER application_content_changed
    AFTER INSERT OR UPDATE OF subject, usager_first_name, usager_last_name, usager_fields,
      signature, description ON application
    FOR EACH ROW EXECUTE FUNCTION aplus_application_content_changed()
    """,
    # --- application: inbox columns changed -> copy them onto its participations.
    """
    CREATE OR REPLACE FUNCTION aplus_application_inbox_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation SET
        app_status = NEW.status, app_updated_at = NEW.updated_at, app_late_at = NEW.late_at,
        app_groups = CASE WHEN NEW.creator_group IS DISTINCT FROM OLD.creator_group
                          THEN aplus_application_groups(NEW.id) ELSE app_groups END
      WHERE application = NEW.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER application_inbox_changed
    AFTER UPDATE OF status, updated_at, late_at, creator_group ON application
    FOR EACH ROW WHEN (
      OLD.status IS DISTINCT FROM NEW.status
      OR OLD.updated_at IS DISTINCT FROM NEW.updated_at
      OR OLD.late_at IS DISTINCT FROM NEW.late_at
      OR OLD.creator_group IS DISTINCT FROM NEW.creator_group)
    EXECUTE FUNCTION aplus_application_inbox_changed()
    """,
    # --- participation: a new row starts with its demande's inbox columns.
    """
    CREATE OR REPLACE FUNCTION aplus_participation_fill() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      SELECT a.status, a.updated_at, a.late_at, aplus_application_groups(a.id)
        INTO NEW.app_status, NEW.app_updated_at, NEW.app_late_at, NEW.app_groups
        FROM application a WHERE a.id = NEW.application;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER participation_fill BEFORE INSERT ON participation
    FOR EACH ROW EXECUTE FUNCTION aplus_participation_fill()
    """,
    # --- participants and answers feed the search vectors (statement-level: one rebuild
    # per demande even when a group invitation adds thirty instructeurs at once).
    """
    CREATE OR REPLACE FUNCTION aplus_reindex_from_new_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_reindex_search(ARRAY(SELECT DISTINCT application FROM new_rows));
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_reindex_from_old_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM aplus_reindex_search(ARRAY(SELECT DISTINCT application FROM old_rows));
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER participation_added AFTER INSERT ON participation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_reindex_from_new_rows()
    """,
    """
    CREATE TRIGGER participation_removed AFTER DELETE ON participation
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_reindex_from_old_rows()
    """,
    """
    CREATE TRIGGER answer_added AFTER INSERT ON answer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_reindex_from_new_rows()
    """,
    # Retention wipes bodies: the vectors must forget them too.
    """
    CREATE TRIGGER answer_changed AFTER UPDATE ON answer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_reindex_from_new_rows()
    """,
    """
    CREATE TRIGGER answer_removed AFTER DELETE ON answer
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_reindex_from_old_rows()
    """,
    # --- groups addressed: refresh the group filter column of the demande's participants.
    """
    CREATE OR REPLACE FUNCTION aplus_groups_from_new_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation p SET app_groups = aplus_application_groups(p.application)
       WHERE p.application IN (SELECT application FROM new_rows);
      RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_groups_from_old_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE participation p SET app_groups = aplus_application_groups(p.application)
       WHERE p.application IN (SELECT application FROM old_rows);
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER application_group_added AFTER INSERT ON application_group
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_groups_from_new_rows()
    """,
    """
    CREATE TRIGGER application_group_removed AFTER DELETE ON application_group
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aplus_groups_from_old_rows()
    """,
    # Existing rows (none in a fresh install; kept for databases created before this).
    """
    UPDATE participation p SET app_status = a.status, app_updated_at = a.updated_at,
      app_late_at = a.late_at, app_groups = aplus_application_groups(a.id)
    FROM application a WHERE a.id = p.application
    """,
    "SELECT aplus_reindex_search(ARRAY(SELECT id FROM application))",
    # Every tab is one or a few ranges of this index, read in order and index-only.
    'CREATE INDEX participation_inbox ON participation ("user", app_status,'
    " app_updated_at DESC, application DESC) INCLUDE (last_seen_at, app_late_at, app_groups)",
    "CREATE INDEX application_search_public ON application USING gin (search_public)",
    "CREATE INDEX application_search_private ON application USING gin (search_private)",
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
