"""Reference data: every département (overseas included) and the organisations list.

Upserts from `app.domain.reference`, so re-running it after the list changes (through a new
migration that calls `load_reference_data`) corrects names without touching ids.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T14:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reference data: départements and organisations"


async def load_reference_data():
    from app.domain.reference import DEPARTEMENTS, ORGANISATIONS
    from app.tables import Area, Organisation

    for d in DEPARTEMENTS:
        await Area.raw(
            "INSERT INTO area (code, name, region, is_collectivite) VALUES ({}, {}, {}, {})"
            " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,"
            " is_collectivite = EXCLUDED.is_collectivite",
            d.code,
            d.name,
            d.region,
            d.collectivite,
        )
    for o in ORGANISATIONS:
        await Organisation.raw(
            "INSERT INTO organisation (code, short_name, name, category, kind)"
            " VALUES ({}, {}, {}, {}, {}) ON CONFLICT (code) DO UPDATE SET"
            " short_name = EXCLUDED.short_name, name = EXCLUDED.name,"
            " category = EXCLUDED.category, kind = EXCLUDED.kind",
            o.code,
            o.short_name,
            o.name,
            o.category,
            o.kind,
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="aplus", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
