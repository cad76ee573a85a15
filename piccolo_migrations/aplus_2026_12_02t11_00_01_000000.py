"""The inbox export's délais stored on the demande (`state.delay_tenths`), and the SQL twin of
the CSV formula guard, so the export is one `COPY … TO STDOUT` with no Python per row
(docs/decisions/2026-12-02-export-in-copy.md).

Existing demandes get their délais here, in batches, from the same Python function the app
uses when a thread changes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T11:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "export délais stored on the demande; aplus_safe_cell"

BATCH = 5000

STATEMENTS = [
    # app/exports.py `safe_cell`: a cell a spreadsheet would run as a formula gets a leading
    # apostrophe (tests/routes/test_exports.py holds them equal).
    """
    CREATE OR REPLACE FUNCTION aplus_safe_cell(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN left(value, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r')
                  THEN '''' || value ELSE value END
    $$
    """,
]


class RawSQL(Table):
    pass


async def backfill() -> None:
    from app.domain.applications.state import delay_tenths

    after = "00000000-0000-0000-0000-000000000000"
    while True:
        rows = await RawSQL.raw(
            "SELECT id, created_at, first_answer_at, coalesce(processed_at, archived_at) AS"
            " resolved_at, area FROM application WHERE id > {}::uuid AND (first_answer_at IS"
            " NOT NULL OR processed_at IS NOT NULL OR archived_at IS NOT NULL)"
            f" ORDER BY id LIMIT {BATCH}",
            after,
        )
        if not rows:
            return
        delays = [
            delay_tenths(r["created_at"], r["first_answer_at"], r["resolved_at"], r["area"])
            for r in rows
        ]
        await RawSQL.raw(
            "UPDATE application a SET first_answer_delay_tenths = d.first,"
            " resolution_delay_tenths = d.resolved"
            " FROM unnest({}::uuid[], {}::integer[], {}::integer[]) AS d(id, first, resolved)"
            " WHERE a.id = d.id",
            [r["id"] for r in rows],
            [first for first, _ in delays],
            [resolved for _, resolved in delays],
        )
        after = rows[-1]["id"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="aplus", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await RawSQL.raw(statement)
        await backfill()

    manager.add_raw(run)
    return manager
