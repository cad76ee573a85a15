"""Statistics aggregate (issue 13; docs/decisions/2026-12-01-statistics.md).

Two tables of figures without personal data, kept by the `refresh_statistics` job:
- `stats_demande`: one row of facts per demande (territory, groups, organisations,
  networks, delays in tenths of a business day, outcome flags). No foreign key to
  `application`: the facts outlive the wipe of personal data and any deletion.
- `stats_cell`: the same facts summed per month × département × one dimension (everyone,
  one organisation, one group, one network), with delay histograms, so a dashboard reads
  a few hundred cells instead of scanning demandes.
Plain SQL tables, not Piccolo tables: only app/domain/statistics.py reads or writes them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics: per-demande facts and monthly cells"

STATEMENTS = [
    """
    CREATE TABLE stats_demande (
      application_id uuid PRIMARY KEY,
      created_at timestamptz NOT NULL,
      month date NOT NULL,
      area varchar(3) NOT NULL,
      groups uuid[] NOT NULL DEFAULT ARRAY[]::uuid[],
      organisations varchar(40)[] NOT NULL DEFAULT ARRAY[]::varchar[],
      networks varchar(100)[] NOT NULL DEFAULT ARRAY[]::varchar[],
      is_irrelevant boolean NOT NULL DEFAULT false,
      usefulness varchar(12),
      first_answer_tenths integer,
      resolution_tenths integer,
      under_7_days boolean,
      in_charge_3_days boolean,
      is_open boolean NOT NULL DEFAULT true,
      late_at timestamptz,
      refreshed_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX stats_demande_month ON stats_demande (month, area)",
    "CREATE INDEX stats_demande_groups ON stats_demande USING gin (groups)",
    "CREATE INDEX stats_demande_organisations ON stats_demande USING gin (organisations)",
    "CREATE INDEX stats_demande_late ON stats_demande (late_at) WHERE is_open",
    # Pending outcomes are revisited once their window closes.
    """CREATE INDEX stats_demande_pending ON stats_demande (created_at)
       WHERE under_7_days IS NULL OR in_charge_3_days IS NULL""",
    """
    CREATE TABLE stats_cell (
      dim varchar(10) NOT NULL,
      key varchar(100) NOT NULL,
      month date NOT NULL,
      area varchar(3) NOT NULL,
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
      PRIMARY KEY (dim, key, month, area)
    )
    """,
    """
    CREATE TABLE stats_refresh (
      id integer PRIMARY KEY CHECK (id = 1),
      refreshed_at timestamptz NOT NULL,
      watermark timestamptz NOT NULL,
      seconds double precision NOT NULL DEFAULT 0,
      demandes integer NOT NULL DEFAULT 0
    )
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
