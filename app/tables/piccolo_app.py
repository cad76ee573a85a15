"""Piccolo app registration: the tables and the top-level migrations folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="aplus",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "piccolo_migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
