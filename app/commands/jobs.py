"""`aplus jobs` (list, run) and `aplus retention --dry-run`."""

from __future__ import annotations

import json

import click

from app.commands.support import fail, run_db


@click.group(help="Tâches planifiées (heure de Paris) : liste, exécution immédiate.")
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
    last = run_db(lambda: registry.last_runs(names))
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
        fail(f"Tâche inconnue : {name!r} (tâches : {known})")

    async def go():
        from app.jobs import queue

        try:
            return await job.function({})
        finally:
            # Jobs that send mail opened the queue's pool: close it before the loop ends.
            await (await queue.get_queue()).disconnect()
            queue.set_queue(None)

    counts = run_db(go)
    click.echo(f"{name} : {json.dumps(counts, ensure_ascii=False)}")


@click.command(help="Conservation des données : ce que les règles effaceraient aujourd'hui.")
@click.option("--dry-run", is_flag=True, help="N'efface rien : affiche les nombres.")
def retention(dry_run: bool) -> None:
    from app.jobs import retention as rules

    if not dry_run:
        fail("ajoutez --dry-run. L'effacement, c'est `aplus jobs run NOM` ou le worker.")

    counts = run_db(rules.dry_run)
    click.echo("Effacerait aujourd'hui (rien n'est effacé) :")
    for label, count in counts:
        click.echo(f"  {count:>9}  {label}")
    click.echo("Pour effacer : aplus jobs run NOM (voir aplus jobs list).")
