"""The `aplus` command, run as a user would: a real process on a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from support.testenv import ROOT, SERVER_URL, with_dbname

ROLES = {"helper", "instructor", "manager", "area_manager", "observer", "expert", "admin"}
COUNTED = [
    "app_user",
    "app_group",
    "membership",
    "manager_scope",
    "application",
    "answer",
    "participation",
    "application_group",
]


def _aplus() -> str:
    script = Path(sys.executable).parent / "aplus"
    assert script.exists(), (
        f"{script} is missing: install the project in its virtual environment "
        "(scripts/setup-venv, or pip install -e '.[test]')"
    )
    return str(script)


@pytest.fixture(scope="module")
def fresh_database():
    """A throw-away database of its own, migrated by `aplus migrate`, dropped afterwards."""
    name = f"aplus_cli_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_dbname(SERVER_URL, name)
    try:
        migrated = aplus("migrate", database_url=url)
        assert migrated.returncode == 0, migrated.stderr
        assert "Migrations appliquées" in migrated.stdout
        yield url
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def aplus(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [_aplus(), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}


def test_help_lists_the_commands():
    result = aplus("--help")

    assert result.returncode == 0, result.stderr
    for command in ("run", "web", "worker", "migrate", "seed", "user", "jobs"):
        assert f"  {command} " in result.stdout
    assert "Administration+" in result.stdout


def test_seed_demo_is_idempotent(fresh_database):
    first = aplus("seed", "demo", "--json", database_url=fresh_database)
    assert first.returncode == 0, first.stderr
    accounts = json.loads(first.stdout)
    assert isinstance(accounts, list) and accounts
    for account in accounts:
        assert set(account) == {"email", "roles", "groups"}
        assert isinstance(account["email"], str) and "@" in account["email"]
        assert isinstance(account["roles"], list) and isinstance(account["groups"], list)
    roles = {role for account in accounts for role in account["roles"]}
    assert roles >= ROLES, f"no demo account for {ROLES - roles}"
    counts = _counts(fresh_database)
    assert counts["application"] >= 4
    with psycopg.connect(fresh_database) as conn:
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM application")}
    assert statuses >= {"new", "in_progress", "processed", "archived"}

    second = aplus("seed", "demo", "--json", database_url=fresh_database)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == accounts
    assert _counts(fresh_database) == counts

    plain = aplus("seed", "demo", database_url=fresh_database)
    assert plain.returncode == 0, plain.stderr
    assert accounts[0]["email"] in plain.stdout
    # The banner speaks French, as the README's table of demo accounts does.
    admin_line = next(line for line in plain.stdout.splitlines() if "admin@" in line)
    assert admin_line.split()[-1] == "administrateur"
    for english in ("helper", "instructor", "manager", "observer", "admin\n"):
        assert english not in plain.stdout + "\n"


def test_migrate_twice_changes_nothing(fresh_database):
    result = aplus("migrate", database_url=fresh_database)

    assert result.returncode == 0, result.stderr
    assert "Migrations appliquées" in result.stdout


def test_user_create(fresh_database):
    created = aplus(
        "user",
        "create",
        "--email",
        "Premier.Admin@Exemple.gouv.fr",
        "--first-name",
        "Ada",
        "--role",
        "admin",
        "--admin-area",
        "75",
        database_url=fresh_database,
    )
    assert created.returncode == 0, created.stderr
    assert "premier.admin@exemple.gouv.fr" in created.stdout
    with psycopg.connect(fresh_database) as conn:
        row = conn.execute(
            "SELECT is_admin, admin_areas FROM app_user WHERE email = %s",
            ("premier.admin@exemple.gouv.fr",),
        ).fetchone()
    assert row == (True, ["75"])

    again = aplus(
        "user", "create", "--email", "premier.admin@exemple.gouv.fr", database_url=fresh_database
    )
    assert again.returncode != 0
    assert "existe déjà" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "create", "--email", "bad"], "adresse e-mail"),
        (
            ["user", "create", "--email", "a@exemple.fr", "--group", "Groupe fantôme"],
            "Groupe inconnu",
        ),
        (
            ["user", "create", "--email", "a@exemple.fr", "--admin-area", "999"],
            "Département inconnu",
        ),
        (["user", "create", "--email", "a@exemple.fr", "--role", "pirate"], "pirate"),
        (["web", "--port", "0"], "0"),
        (["commande-inconnue"], "commande-inconnue"),
    ],
)
def test_bad_arguments_give_a_message_and_no_traceback(fresh_database, args, message):
    result = aplus(*args, database_url=fresh_database)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert message.lower() in result.stderr.lower(), result.stderr


def test_user_scope_grants_a_national_observer_scope(fresh_database):
    assert (
        aplus(
            "user", "create", "--email", "observatrice@exemple.gouv.fr", database_url=fresh_database
        ).returncode
        == 0
    )
    args = ("user", "scope", "--email", "observatrice@exemple.gouv.fr", "--role", "observateur")
    granted = aplus(*args, database_url=fresh_database)
    assert granted.returncode == 0, granted.stderr
    assert "Périmètre ajouté" in granted.stdout
    again = aplus(*args, database_url=fresh_database)
    assert "déjà ce périmètre" in again.stdout
    unknown = aplus(*args, "--area", "999", database_url=fresh_database)
    assert unknown.returncode != 0 and "Département inconnu" in unknown.stderr
    with psycopg.connect(fresh_database) as conn:
        rows = conn.execute(
            "SELECT s.role, s.organisation, s.area FROM manager_scope s"
            " JOIN app_user u ON u.id = s.user WHERE u.email = 'observatrice@exemple.gouv.fr'"
        ).fetchall()
        events = conn.execute(
            "SELECT changed_fields FROM audit_event WHERE code = 'scope_granted'"
        ).fetchall()
    assert rows == [("observer", None, None)]
    assert events == [(["scopes"],)]


def _expired_rows(url: str) -> None:
    """Rows some rule erases today, and rows no rule may touch yet."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO rate_limit_hit (key, created_at) VALUES"
            " ('a', now() - interval '1 hour'), ('b', now() - interval '2 hours'),"
            " ('c', now())"
        )
        conn.execute(
            "INSERT INTO audit_event (code, created_at) VALUES"
            " ('application_opened', now() - interval '400 days')"
        )


def _rate_limit_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM rate_limit_hit").fetchone()[0]


def test_jobs_and_retention_commands(fresh_database):
    _expired_rows(fresh_database)

    listed = aplus("jobs", "list", database_url=fresh_database)
    assert listed.returncode == 0, listed.stderr
    for name, schedule in (("purge_files", "5 3 * * *"), ("wipe_personal_data", "15 3 * * *")):
        line = next(line for line in listed.stdout.splitlines() if line.startswith(name))
        assert schedule in line and "jamais" in line
    assert "sweep_outbox" in listed.stdout

    dry = aplus("retention", "--dry-run", database_url=fresh_database)
    assert dry.returncode == 0, dry.stderr
    lines = {line.split(None, 1)[1]: int(line.split()[0]) for line in dry.stdout.splitlines()[1:-1]}
    assert lines["compteurs de tentatives de connexion échus"] == 2
    assert lines["événements du journal d'audit échus"] == 1
    assert lines["demandes dont effacer les données personnelles"] == 0
    assert _rate_limit_rows(fresh_database) == 3  # counted, not erased

    ran = aplus("jobs", "run", "purge_rate_limits", database_url=fresh_database)
    assert ran.returncode == 0, ran.stderr
    assert '"rate_limits": 2' in ran.stdout
    assert _rate_limit_rows(fresh_database) == 1
    listed = aplus("jobs", "list", database_url=fresh_database)
    line = next(li for li in listed.stdout.splitlines() if li.startswith("purge_rate_limits"))
    assert ": ok" in line and '"rate_limits": 2' in line

    unknown = aplus("jobs", "run", "purge_everything", database_url=fresh_database)
    assert unknown.returncode == 1
    assert "Tâche inconnue" in unknown.stderr and "Traceback" not in unknown.stderr
    bare = aplus("retention", database_url=fresh_database)
    assert bare.returncode == 1 and "--dry-run" in bare.stderr


def test_user_update_changes_an_expert_account_the_ui_never_changes(fresh_database):
    created = aplus(
        "user",
        "create",
        "--email",
        "expert@exemple.gouv.fr",
        "--role",
        "expert",
        database_url=fresh_database,
    )
    assert created.returncode == 0, created.stderr
    args = ("user", "update", "--email", "expert@exemple.gouv.fr")
    moved = aplus(*args, "--new-email", "Expert2@Exemple.gouv.fr", database_url=fresh_database)
    assert moved.returncode == 0, moved.stderr
    disabled = aplus(
        "user",
        "update",
        "--email",
        "expert2@exemple.gouv.fr",
        "--disable",
        database_url=fresh_database,
    )
    assert disabled.returncode == 0 and "désactivé" in disabled.stdout
    bad = aplus(*args, "--new-email", "pas une adresse", database_url=fresh_database)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    with psycopg.connect(fresh_database) as conn:
        row = conn.execute(
            "SELECT is_expert, disabled_at IS NOT NULL, cgu_version FROM app_user"
            " WHERE email = 'expert2@exemple.gouv.fr'"
        ).fetchone()
        codes = {r[0] for r in conn.execute("SELECT code FROM audit_event").fetchall()}
    assert row == (True, True, None)
    assert {"user_email_changed", "user_disabled"} <= codes


def test_jobs_are_listed_with_their_schedules_and_run_on_demand(fresh_database):
    from app.jobs.worker import CRON_JOBS

    listed = aplus("jobs", "list", database_url=fresh_database)
    assert listed.returncode == 0, listed.stderr
    for job in CRON_JOBS:
        line = next(x for x in listed.stdout.splitlines() if x.startswith(job.function.__name__))
        assert job.cron in line
    # A header line, then one line per job.
    assert len(listed.stdout.strip().splitlines()) == len(CRON_JOBS) + 1

    ran = aplus("jobs", "run", "weekly_recap", database_url=fresh_database)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("weekly_recap : ")
    # A second run the same week finds every recap already sent.
    again = aplus("jobs", "run", "weekly_recap", database_url=fresh_database)
    assert again.stdout.strip() == "weekly_recap : 0"
    unknown = aplus("jobs", "run", "purge_everything", database_url=fresh_database)
    assert unknown.returncode == 1
    assert "Tâche inconnue : 'purge_everything'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
