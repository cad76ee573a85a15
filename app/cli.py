"""The `aplus` command: run everything, or each production piece separately."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
import sys
import time
import urllib.request

import click

from app.settings import SettingsError, child_process_environment


class CliError(click.ClickException):
    """A French message on stderr and exit code 1, never a traceback."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


def _fail(message: str) -> None:
    raise CliError(message)


def _database() -> str:
    from app.embedded_db import ensure_database_url

    try:
        return ensure_database_url()
    except SettingsError as exc:
        _fail(str(exc))
    except ImportError:
        _fail(
            "PostgreSQL embarqué indisponible : définissez DATABASE_URL, ou installez les outils"
            " de développement (scripts/setup-venv, ou pip install '.[dev]')."
        )
    except Exception as exc:  # the embedded server could not start
        _fail(f"Impossible de démarrer PostgreSQL embarqué : {exc}")
    raise AssertionError


def _run_db(coro_factory):
    """Run an async function with the engine pointed at the right database."""
    url = _database()

    async def main():
        from app.piccolo_conf import DB

        DB.config["dsn"] = url
        await DB.start_connection_pool(min_size=1, max_size=2)
        try:
            return await coro_factory()
        finally:
            await DB.close_connection_pool()

    return asyncio.run(main())


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


@main.group(help="Tâches planifiées (heure de Paris) : liste, exécution immédiate.")
def jobs() -> None:
    pass


def _fmt_time(moment) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M:%S")


@jobs.command("list", help="Chaque tâche planifiée, son horaire et sa dernière exécution.")
def jobs_list() -> None:
    from app.jobs import registry
    from app.jobs.worker import CRON_JOBS

    names = [registry.job_name(j) for j in CRON_JOBS]
    last = _run_db(lambda: registry.last_runs(names))
    click.echo(f"{'tâche':22} {'horaire':14} dernière exécution")
    for job in CRON_JOBS:
        name = registry.job_name(job)
        run = last.get(name)
        if run is None:
            seen = "jamais"
        else:
            seen = f"{_fmt_time(run.started_at)} : {run.outcome}"
            if run.finished_at is not None:
                elapsed = (run.finished_at - run.started_at).total_seconds()
                seen += f" en {elapsed:.1f} s"
            if run.counts:
                seen += " " + json.dumps(run.counts, ensure_ascii=False)
        click.echo(f"{name:22} {job.cron:14} {seen}")


@jobs.command("run", help="Exécute une tâche planifiée maintenant, au premier plan.")
@click.argument("name")
def jobs_run(name: str) -> None:
    from app.jobs import registry
    from app.jobs.worker import CRON_JOBS

    job = registry.find(CRON_JOBS, name)
    if job is None:
        known = ", ".join(registry.job_name(j) for j in CRON_JOBS)
        _fail(f"Tâche inconnue : {name!r} (tâches : {known})")

    async def go():
        from app.jobs import queue

        try:
            return await job.function({})
        finally:
            # Jobs that send mail opened the queue's pool: close it before the loop ends.
            await (await queue.get_queue()).disconnect()
            queue.set_queue(None)

    counts = _run_db(go)
    click.echo(f"{name} : {json.dumps(counts, ensure_ascii=False)}")


@main.command(help="Conservation des données : ce que les règles effaceraient aujourd'hui.")
@click.option("--dry-run", is_flag=True, help="N'efface rien : affiche les nombres.")
def retention(dry_run: bool) -> None:
    from app.jobs import retention as rules

    if not dry_run:
        _fail("ajoutez --dry-run. L'effacement, c'est `aplus jobs run NOM` ou le worker.")

    counts = _run_db(rules.dry_run)
    click.echo("Effacerait aujourd'hui (rien n'est effacé) :")
    for label, count in counts:
        click.echo(f"  {count:>9}  {label}")
    click.echo("Pour effacer : aplus jobs run NOM (voir aplus jobs list).")


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
        raise click.ClickException("`seed volume` se lance depuis le dépôt (bench/volume.py).")
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
    click.echo(
        f"Étapes : {phases} ; CPU : client {stats.client_cpu:.0f} s,"
        f" PostgreSQL {stats.server_cpu:.0f} s."
    )
    click.echo(f"Compte du benchmark : {volume.BENCH_EMAIL} (groupe {volume.BENCH_GROUP!r}).")


@main.group(help="Gestion des comptes.")
def user() -> None:
    pass


ROLES = ("aidant", "instructeur", "expert", "admin")


@user.command("create", help="Crée un compte (par exemple le premier administrateur).")
@click.option("--email", required=True)
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="Répétable : --role aidant --role instructeur",
)
@click.option("--group", "groups", multiple=True, help="Nom exact d'un groupe (répétable).")
@click.option("--manager", is_flag=True, help="Responsable des groupes donnés.")
@click.option("--admin-area", "admin_areas", multiple=True, help="Département administré.")
def user_create(email, first_name, last_name, roles, groups, manager, admin_areas) -> None:
    from app.domain import users
    from app.domain.validators import ValidationError
    from app.tables import Area, Group

    async def go():
        group_ids = []
        for name in groups:
            group = await Group.objects().where(Group.name == name).first()
            if group is None:
                _fail(f"Groupe inconnu : {name!r}")
            group_ids.append(group.id)
        for code in admin_areas:
            if not await Area.exists().where(Area.code == code):
                _fail(f"Département inconnu : {code!r}")
        try:
            created = await users.create_user(
                email,
                first_name=first_name,
                last_name=last_name,
                helper="aidant" in roles,
                instructor="instructeur" in roles,
                expert="expert" in roles,
                admin="admin" in roles,
                admin_areas=admin_areas,
                groups=group_ids,
                managed_groups=group_ids if manager else [],
            )
        except (users.DomainError, ValidationError) as exc:
            _fail(str(exc))
        return created

    created = _run_db(go)
    click.echo(f"Compte créé : {created.email}")


@user.command(
    "update",
    help="Change l'adresse e-mail ou l'activation d'un compte. Seule voie pour les comptes "
    "administrateurs et experts, et pour ceux sans groupe ni périmètre (jamais l'interface).",
)
@click.option("--email", required=True, help="Adresse actuelle du compte.")
@click.option("--new-email", default=None, help="Nouvelle adresse (ferme ses sessions).")
@click.option("--disable/--enable", "disable", default=None, help="Désactive ou réactive.")
def user_update(email, new_email, disable) -> None:
    from types import SimpleNamespace

    from app.domain import admin
    from app.domain.validators import ValidationError, normalize_email
    from app.tables import User

    async def go():
        found = await User.objects().where(User.email == email.strip().lower()).first()
        if found is None:
            _fail(f"Aucun compte avec l'adresse {email!r}")
        values = {name: getattr(found, name) for name in admin.USER_FIELDS}
        try:
            values["email"] = normalize_email(new_email) if new_email else found.email
        except ValidationError as exc:
            _fail(str(exc))
        values["disabled"] = (found.disabled_at is not None) if disable is None else disable
        # No viewer: the audit events carry no actor, as for `aplus user scope`.
        errors = await admin.save_user(SimpleNamespace(id=None), found, values)
        if errors:
            _fail(" ".join(errors.values()))
        return values

    values = _run_db(go)
    state = "désactivé" if values["disabled"] else "actif"
    click.echo(f"Compte {values['email']} enregistré ({state}).")


SCOPE_ROLES = {"territoire": "area_manager", "observateur": "observer"}


@user.command(
    "scope",
    help="Donne un périmètre de responsable de territoire ou d'observateur. Sans --area : "
    "tous les départements (seulement ici, jamais depuis l'interface) ; sans --organisation : "
    "tous les organismes.",
)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(tuple(SCOPE_ROLES)))
@click.option("--organisation", default=None, help="Code d'organisme, par exemple caf.")
@click.option("--area", default=None, help="Code de département, par exemple 75.")
def user_scope(email, role, organisation, area) -> None:
    from app.domain import admin, audit, reference
    from app.tables import User

    async def go():
        found = await User.objects().where(User.email == email.strip().lower()).first()
        if found is None:
            _fail(f"Aucun compte avec l'adresse {email!r}")
        if organisation is not None:
            try:
                reference.organisation(organisation)
            except KeyError:
                _fail(f"Organisme inconnu : {organisation!r}")
        code = area
        if area is not None:
            try:
                code = reference.departement(area).code
            except KeyError:
                _fail(f"Département inconnu : {area!r}")
        granted = await admin.grant_scope(found.id, SCOPE_ROLES[role], organisation, code)
        if granted:
            await audit.record(
                audit.Event.SCOPE_GRANTED, user_id=found.id, changed_fields=["scopes"]
            )
        return granted

    granted = _run_db(go)
    click.echo("Périmètre ajouté." if granted else "Ce compte a déjà ce périmètre.")


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


@main.command(help="Lance tout le produit en local : base, migrations, démo, web, worker, e-mails.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-demo", is_flag=True, help="Ne pas créer les données de démonstration.")
def run(host: str, port: int, no_demo: bool) -> None:
    from app.settings import get_settings

    # SIGTERM (systemd, docker stop, kill) must stop everything as Ctrl-C does: by default it
    # ends this process at once, skipping the cleanup below and the embedded PostgreSQL's
    # exit hook, which left the server running for the next start to silently reuse.
    signal.signal(signal.SIGTERM, _interrupt)
    settings = get_settings()
    env = child_process_environment()
    env["DATABASE_URL"] = _database()
    catcher = None
    if not settings.smtp_url:
        try:
            from app.devmail import start_catcher
        except ImportError:
            _fail(
                "Récepteur d'e-mails de développement indisponible : définissez SMTP_URL, ou"
                " installez les outils de développement (pip install '.[dev]')."
            )
        catcher = start_catcher(settings.dev_mail_dir)
        # SMTP_URL stays unset: that is how the children know the catcher is the transport.
        env["DEV_MAIL_PORT"] = str(catcher.port)
    base_url = env.setdefault(
        "BASE_URL", f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    )
    me = [sys.executable, "-m", "app.cli"]

    def step(*args: str) -> None:
        if subprocess.run([*me, *args], env=env).returncode != 0:
            _fail(f"`aplus {' '.join(args)}` a échoué")

    step("migrate")
    if not no_demo:
        step("seed", "demo")
    children: list[subprocess.Popen] = []
    try:
        web = [*me, "web", "--host", host, "--port", str(port)]
        children.append(subprocess.Popen(web, env=env))
        children.append(subprocess.Popen([*me, "worker"], env=env))
        _wait_until_up(f"http://127.0.0.1:{port}/sante")
        click.echo("")
        click.echo(f"Administration+ tourne sur {base_url}")
        click.echo(
            f"Connexion : saisissez une adresse de démo sur {base_url}/connexion "
            f"(par ex. aidant@demo.aplus.localhost),"
        )
        if catcher:
            click.echo(f"puis ouvrez le lien reçu dans {base_url}/dev/mails")
        click.echo("Ctrl-C (ou SIGTERM) pour tout arrêter.")
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if catcher:
            catcher.stop()
        click.echo("Arrêté.")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (local)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)


if __name__ == "__main__":
    main()
