"""The `aplus` command: run everything, or each production piece separately.

The commands live in `app/commands/` (jobs, users, run); this module assembles them.
"""

from __future__ import annotations

import asyncio
import json
import logging

import click

from app.commands.jobs import jobs, retention
from app.commands.run import run
from app.commands.support import database as _database
from app.commands.support import fail as _fail
from app.commands.support import run_db as _run_db
from app.commands.users import user
from app.settings import SettingsError


@click.group(help="Administration+ : messagerie sécurisée aidants ↔ organismes publics.")
def main() -> None:
    try:
        from app.settings import get_settings

        get_settings()
    except SettingsError as exc:
        _fail(str(exc))


@main.command(help="Applique les migrations de la base de données.")
def migrate() -> None:
    url = _database()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    async def go():
        from app.piccolo_conf import DB

        DB.config["dsn"] = url
        result = await run_forwards(app_name="all")
        if not result.success:
            _fail(f"Échec des migrations : {result.message}")

    asyncio.run(go())
    click.echo("Migrations appliquées.")


@main.command(help="Démarre le serveur web (production : derrière un proxy HTTPS).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def web(host: str, port: int, workers: int) -> None:
    _database()
    import uvicorn

    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        access_log=False,
    )


@main.command(help="Démarre un worker : e-mails et tâches planifiées (voir `aplus jobs list`).")
def worker() -> None:
    _database()
    from saq import Worker

    from app.jobs import queue
    from app.jobs.worker import make_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def go():
        w = Worker(**make_settings())
        # Worker.start() does not connect its queue (SAQ's own CLI does it before).
        await w.queue.connect()
        queue.set_queue(w.queue)  # jobs that enqueue jobs reuse the worker's connection
        try:
            # SAQ's worker stops cleanly on SIGINT/SIGTERM by itself.
            await w.start()
        finally:
            queue.set_queue(None)
            await w.queue.disconnect()

    asyncio.run(go())


@main.group(help="Données de démonstration.")
def seed() -> None:
    pass


@seed.command("demo", help="Crée (idempotent) les données de démonstration.")
@click.option("--json", "as_json", is_flag=True, help="Affiche les comptes de démo en JSON.")
def seed_demo(as_json: bool) -> None:
    from app.domain import demo

    async def go():
        await demo.seed_demo()
        return await demo.demo_accounts()

    accounts = _run_db(go)
    if as_json:
        click.echo(json.dumps(accounts, ensure_ascii=False))
    else:
        click.echo("Données de démonstration prêtes. Comptes :")
        from app.domain.demo import ROLE_LABELS

        for account in accounts:
            roles = ", ".join(ROLE_LABELS.get(role, role) for role in account["roles"])
            click.echo(f"  {account['email']:45} {roles}")


def _bench_volume():
    """The loader is a benchmark tool in the checkout's bench/, not in the installed package."""
    import importlib
    import sys
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "volume.py").is_file():
        _fail("`seed volume` se lance depuis le dépôt (bench/volume.py).")
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    return importlib.import_module("bench.volume")


@seed.command("volume", help="Charge un gros volume de demandes réalistes (benchmark).")
@click.option(
    "--demandes",
    "count",
    required=True,
    type=click.IntRange(1, 10_000_000),
    help="Nombre de demandes à créer (environ 5 messages chacune).",
)
@click.option("--seed", "random_seed", default=42, show_default=True, type=int)
def seed_volume(count: int, random_seed: int) -> None:
    volume = _bench_volume()
    dsn = _database()
    with click.progressbar(length=count, label="Demandes", show_pos=True) as bar:
        stats = asyncio.run(
            volume.seed_volume(
                count,
                dsn=dsn,
                seed=random_seed,
                progress=bar.update,
                step=lambda label: click.echo(f"\n{label}…", err=True),
            )
        )
    click.echo(
        f"{stats.demandes} demandes, {stats.answers} messages, {stats.participations}"
        f" participations en {stats.seconds:.0f} s."
    )
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in stats.timings.items())
    server = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in stats.server_phases.items())
    click.echo(
        f"Étapes : {phases} ; CPU : client {stats.client_cpu:.0f} s,"
        f" PostgreSQL {stats.server_cpu:.0f} s ({server})."
    )
    click.echo(f"Compte du benchmark : {volume.BENCH_EMAIL} (groupe {volume.BENCH_GROUP!r}).")


@main.group(help="Statistiques.")
def statistics() -> None:
    pass


@statistics.command("refresh", help="Recalcule l'agrégat des statistiques maintenant.")
@click.option("--full", is_flag=True, help="Toutes les demandes, pas seulement les modifiées.")
def statistics_refresh(full: bool) -> None:
    from app.domain import statistics as stats

    report = _run_db(lambda: stats.refresh(full=full))
    click.echo(
        f"{report.demandes} demandes recalculées, {report.months} mois, {report.seconds:.1f} s."
    )


for command in (jobs, retention, user, run):
    main.add_command(command)


if __name__ == "__main__":
    main()
