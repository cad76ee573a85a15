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
    for command in ("run", "web", "worker", "migrate", "seed", "user"):
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
