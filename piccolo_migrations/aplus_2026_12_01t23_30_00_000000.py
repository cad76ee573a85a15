"""Retention (issue 11; docs/decisions/2026-12-01-retention.md).

- `job_run`: one row per run of a scheduled job (start, end, outcome, counts), read by
  `aplus jobs list` and by the tests that count runs.
- The search vectors of a demande whose personal data was wiped are empty: the wipe blanks the
  texts in the same statement that stamps `personal_data_wiped_at`, the existing triggers
  recompute the vectors, and this version of `aplus_reindex_search` yields nothing for such a
  demande (participants' names and scope keys included), so no search finds it any more.
- Indexes for the purges that read a table by age.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: job runs, empty search vectors once wiped, purge indexes"

STATEMENTS = [
    """
    CREATE TABLE job_run (
      id bigserial PRIMARY KEY,
      name varchar(100) NOT NULL,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      outcome varchar(20) NOT NULL DEFAULT 'running',
      counts jsonb NOT NULL DEFAULT jsonb_build_object()
    )
    """,
    "CREATE INDEX job_run_name_started ON job_run (name, started_at DESC)",
    """
    CREATE OR REPLACE FUNCTION aplus_reindex_search(app_ids uuid[]) RETURNS void
    LANGUAGE sql AS $$
      UPDATE application a SET
        search_public = CASE WHEN a.personal_data_wiped_at IS NOT NULL THEN ''::tsvector ELSE
          to_tsvector('french', aplus_fold(concat_ws(' ',
          a.subject, a.usager_first_name, a.usager_last_name, a.signature, a.description,
          aplus_field_values(a.usager_fields),
          (SELECT string_agg(concat_ws(' ', t.body, t.signature,
                                       aplus_field_values(t.added_fields)), ' '
                             ORDER BY t.created_at, t.id)
             FROM answer t WHERE t.application = a.id AND t.visibility = 'public'),
          (SELECT string_agg(concat_ws(' ', u.first_name, u.last_name), ' '
                             ORDER BY p.created_at, p.id)
             FROM participation p JOIN app_user u ON u.id = p."user"
            WHERE p.application = a.id)))) || aplus_scope_keys(a.id) END,
        search_private = CASE WHEN a.personal_data_wiped_at IS NOT NULL THEN ''::tsvector ELSE
          to_tsvector('french', aplus_fold(
          (SELECT string_agg(concat_ws(' ', t.body, t.signature), ' ' ORDER BY t.created_at, t.id)
             FROM answer t WHERE t.application = a.id AND t.visibility <> 'public')))
          || aplus_scope_keys(a.id) END
      WHERE a.id = ANY(app_ids)
    $$
    """,
    "CREATE INDEX rate_limit_created ON rate_limit_hit (created_at)",
    "CREATE INDEX user_session_last_seen ON user_session (last_seen_at)",
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
