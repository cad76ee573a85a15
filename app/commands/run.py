"""`aplus run`: the whole product locally (database, migrations, demo, web, worker, mails)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import click

from app.commands.support import database, fail
from app.settings import child_process_environment


@click.command(
    help="Lance tout le produit en local : base, migrations, démo, web, worker, e-mails."
)
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
    env["DATABASE_URL"] = database()
    catcher = None
    if not settings.smtp_url:
        try:
            from app.devmail import start_catcher
        except ImportError:
            fail(
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
            fail(f"`aplus {' '.join(args)}` a échoué")

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
