from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T23:20:06:472806"
VERSION = "1.38.0"
DESCRIPTION = "participation.reads_content, reads_private: what the participant reads on the demande"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="aplus", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Participation",
        tablename="participation",
        column_name="reads_content",
        db_column_name="reads_content",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": True,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Participation",
        tablename="participation",
        column_name="reads_private",
        db_column_name="reads_private",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
