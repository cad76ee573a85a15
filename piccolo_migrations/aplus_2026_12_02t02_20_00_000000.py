"""Statistics: sums per combination of organisations × networks (issue 13).

`stats_combo` holds, per month × département (and `*` for all of them) × the exact set of
organisations and of networks a demande involves, the same counters and delay histograms as
`stats_cell`, over all demandes and again per group. Each demande is in exactly one
combination per area key (and per group), so any selection without a group, or one group
narrowed by an organisation or a network, is a sum of combinations, never a scan of the
per-demande facts
(docs/decisions/2026-12-02-statistics-cells.md). No personal data; rebuilt with the cells.
Both tables also count the demandes late at the refresh.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T02:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics: sums per combination of organisations and networks"

STATEMENTS = [
    """
    CREATE TABLE stats_combo (
      month date NOT NULL,
      area varchar(3) NOT NULL,
      -- '' for every demande once; a group's id for its demandes (only per département).
      grp varchar(36) NOT NULL,
      organisations varchar(40)[] NOT NULL,
      networks varchar(100)[] NOT NULL,
      demandes integer NOT NULL,
      irrelevant integer NOT NULL,
      under_7_yes integer NOT NULL,
      under_7_no integer NOT NULL,
      in_charge_yes integer NOT NULL,
      in_charge_no integer NOT NULL,
      useful_oui integer NOT NULL,
      useful_ne_sait_pas integer NOT NULL,
      useful_non integer NOT NULL,
      late integer NOT NULL,
      first_answer_values integer[] NOT NULL,
      first_answer_counts integer[] NOT NULL,
      resolution_values integer[] NOT NULL,
      resolution_counts integer[] NOT NULL,
      -- A page reads one group key and one area key (or `*`) over a range of months.
      PRIMARY KEY (grp, area, month, organisations, networks)
    )
    """,
    # Open demandes past their deadline at the refresh, whatever their month: a page sums
    # them over every month instead of counting facts. Existing aggregates are rebuilt by the
    # next refresh (it finds no combination).
    "ALTER TABLE stats_cell ADD COLUMN late integer NOT NULL DEFAULT 0",
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
