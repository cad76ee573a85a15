"""Search within the viewer's scope in one index lookup (docs/decisions/2026-11-22-inbox-search-scope.md).

Each demande's search vectors also hold one key lexeme per participant (`#` + the user id in
hex, a word no search can type: search terms are [a-z0-9]). A search then asks the GIN index
for "these words AND my key", which yields only the demandes of the viewer's scope instead of
every match in the database (a common name matched 1 % of a million demandes).
The participation triggers already rebuild the vectors when participants change.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T15:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox: participant keys in the search vectors"

STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION aplus_scope_key(user_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT '#' || replace(user_id::text, '-', '')
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION aplus_scope_keys(app_id uuid) RETURNS tsvector
    LANGUAGE sql STABLE AS $$
      SELECT array_to_tsvector(ARRAY(
        SELECT DISTINCT aplus_scope_key(p."user") FROM participation p
         WHERE p.application = app_id))
    $$
    """,
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
            WHERE p.application = a.id)))) || aplus_scope_keys(a.id),
        search_private = to_tsvector('french', aplus_fold(
          (SELECT string_agg(concat_ws(' ', t.body, t.signature), ' ' ORDER BY t.created_at, t.id)
             FROM answer t WHERE t.application = a.id AND t.visibility <> 'public')))
          || aplus_scope_keys(a.id)
      WHERE a.id = ANY(app_ids)
    $$
    """,
    "SELECT aplus_reindex_search(ARRAY(SELECT id FROM application))",
    # The rewrite above went to the GIN pending lists, which every search would scan until
    # the next vacuum: merge them into the indexes now.
    "SELECT gin_clean_pending_list('application_search_public'::regclass)",
    "SELECT gin_clean_pending_list('application_search_private'::regclass)",
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
