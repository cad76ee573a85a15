"""Statistics: sums per combination of organisations × networks (issue 13).

`stats_combo` holds, per month × département (and `*` for all of them) × the exact set of
organisations and of networks a demande involves, the same counters and delay histograms as
`stats_cell`. Each demande is in exactly one combination per area key, so any selection
without a group is a sum of combinations, never a scan of the per-demande facts
(docs/decisions/2026-12-02-statistics-cells.md). No personal data; rebuilt with the cells.
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
      first_answer_values integer[] NOT NULL,
      first_answer_counts integer[] NOT NULL,
      resolution_values integer[] NOT NULL,
      resolution_counts integer[] NOT NULL,
      PRIMARY KEY (month, area, organisations, networks)
    )
    """,
    # Existing aggregates get their combinations at the next full refresh (nightly).
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
