"""The tables and the migrations never drift apart, and the migrated schema has every column."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from piccolo.columns import ForeignKey
from support.testenv import ROOT

from app.tables import ALL_TABLES

MIGRATIONS = ROOT / "piccolo_migrations"


def _migration_files() -> set[str]:
    return {p.name for p in MIGRATIONS.glob("*.py")}


def test_tables_and_migrations_do_not_drift():
    before = _migration_files()
    env = {
        **os.environ,
        "PICCOLO_CONF": "app.piccolo_conf",
        "PYTHONPATH": str(ROOT),
    }
    # --auto_input=n: a suspected rename is answered "no" instead of waiting for a terminal.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "piccolo.main",
            "migrations",
            "new",
            "aplus",
            "--auto",
            "--auto_input=n",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    created = _migration_files() - before
    for name in created:
        (MIGRATIONS / name).unlink()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not created, (
        "app/tables/ changed without a migration: run "
        "`PICCOLO_CONF=app.piccolo_conf piccolo migrations new aplus --auto` and commit the "
        f"file it writes.\n{output}"
    )
    counts = re.findall(r"^(.+?)\s+(\d+)\s*$", result.stdout, flags=re.MULTILINE)
    assert len(counts) >= 10, output
    assert all(count == "0" for _label, count in counts), output
    assert "No changes detected" in result.stdout


async def test_every_table_and_column_exists_in_the_migrated_database(db):
    rows = await ALL_TABLES[0].raw(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public'"
    )
    schema: dict[str, set[str]] = {}
    for row in rows:
        schema.setdefault(row["table_name"], set()).add(row["column_name"])
    for table in ALL_TABLES:
        name = table._meta.tablename
        assert name in schema, f"table {name} ({table.__name__}) is missing"
        expected = {column._meta.db_column_name for column in table._meta.columns}
        assert expected <= schema[name], f"{name}: missing columns {expected - schema[name]}"


async def test_foreign_keys_exist_in_the_migrated_database(db):
    rows = await ALL_TABLES[0].raw(
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu "
        "ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"
    )
    constrained = {(row["table_name"], row["column_name"]) for row in rows}
    for table in ALL_TABLES:
        for column in table._meta.columns:
            if isinstance(column, ForeignKey):
                key = (table._meta.tablename, column._meta.db_column_name)
                assert key in constrained, f"no foreign key constraint on {key}"
