"""Piccolo's engine and app registry, built from the settings."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from app.settings import get_settings

DB = PostgresEngine(
    config={"dsn": get_settings().database_url or "postgresql:///aplus-not-configured"},
    # Pool opened by the web and worker processes at startup; a bounded size keeps
    # several processes under PostgreSQL's connection limit.
)

APP_REGISTRY = AppRegistry(apps=["app.tables.piccolo_app"])
