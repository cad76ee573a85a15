"""`aplus seed volume` (bench/volume.py): the bulk loader writes what the app would have written.

The loader runs with triggers off and computes every derived value itself; these tests compare
each one with what the database functions, the triggers' SQL and `business_days` compute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
from support.testenv import ROOT, SERVER_URL, with_dbname

from app.domain import business_days
from app.domain.applications import state


def test_seed_volume_loads_consistent_demandes():
    name = f"aplus_volume_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_dbname(SERVER_URL, name)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    triggers = (
        "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger WHERE NOT tgisinternal"
    )
    try:
        for args in (["migrate"], ["seed", "volume", "--demandes", "300"]):
            if args[0] == "seed":
                with psycopg.connect(url, autocommit=True) as conn:
                    before = set(conn.execute(triggers).fetchall())
            done = subprocess.run(
                [sys.executable, "-m", "app.cli", *args],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, done.stderr
        assert "300 demandes" in done.stdout
        with psycopg.connect(url, autocommit=True) as conn:
            count = conn.execute("SELECT count(*) FROM application").fetchone()[0]
            messages = conn.execute("SELECT count(*) FROM answer").fetchone()[0]
            assert count == 300 and 3 * count < messages < 8 * count
            statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM application")}
            assert statuses == {"new", "in_progress", "processed", "archived"}
            assert conn.execute("SELECT count(DISTINCT area) FROM application").fetchone()[0] > 20
            # The copies equal what the triggers compute.
            bad = conn.execute(
                "SELECT count(*) FROM participation p JOIN application a ON a.id = p.application"
                " WHERE p.app_status <> a.status OR p.app_updated_at <> CASE WHEN p.reads_private"
                " THEN a.updated_at ELSE a.public_updated_at END"
                " OR p.app_late_at IS DISTINCT FROM a.late_at"
                " OR p.app_groups::text <> aplus_application_groups(a.id)::text"
            ).fetchone()[0]
            assert bad == 0
            bad = conn.execute(
                "SELECT count(*) FROM participation p JOIN app_user u ON u.id = p.user"
                " WHERE p.reads_content <> aplus_reads_content(p.is_creator, u.is_expert,"
                " p.app_status) OR p.reads_private <> aplus_reads_private(p.is_creator,"
                " u.is_instructor, u.is_expert, p.app_status)"
            ).fetchone()[0]
            assert bad == 0
            # The thread's dates and counts are the ones the answers give.
            bad = conn.execute(
                "SELECT count(*) FROM application a, LATERAL (SELECT"
                " count(*) FILTER (WHERE t.kind = 'message') AS n,"
                " min(t.created_at) FILTER (WHERE t.kind = 'message' AND t.author <> a.creator)"
                " AS first_at,"
                " max(t.created_at) FILTER (WHERE t.kind = 'message' AND t.author <> a.creator)"
                " AS last_at, max(t.created_at) AS updated_at,"
                " max(t.created_at) FILTER (WHERE t.visibility = 'public') AS public_at,"
                " max(t.created_at) FILTER (WHERE t.marks_processed) AS processed_at,"
                " max(t.created_at) FILTER (WHERE t.kind = 'archive') AS archived_at"
                " FROM answer t WHERE t.application = a.id) t"
                " WHERE a.answers_count <> t.n"
                " OR a.first_answer_at IS DISTINCT FROM t.first_at"
                " OR a.last_answer_at IS DISTINCT FROM t.last_at"
                " OR a.updated_at <> coalesce(t.updated_at, a.created_at)"
                " OR a.public_updated_at <> coalesce(t.public_at, a.created_at)"
                " OR a.processed_at IS DISTINCT FROM t.processed_at"
                " OR a.archived_at IS DISTINCT FROM t.archived_at"
                " OR (a.status = 'archived') <> (a.archived_at IS NOT NULL)"
            ).fetchone()[0]
            assert bad == 0
            # Each author writes in the name of a group they belong to, the demande's.
            bad = conn.execute(
                "SELECT count(*) FROM answer t JOIN application a ON a.id = t.application"
                ' WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m."user" = t.author'
                ' AND m."group" = t.author_group)'
                " OR NOT t.author_group = ANY(aplus_application_groups(a.id))"
            ).fetchone()[0]
            assert bad == 0
            # "En souffrance" as business_days computes it, for the open demandes.
            rows = conn.execute(
                "SELECT created_at, last_answer_at, area, late_at FROM application"
                " WHERE status IN ('new', 'in_progress')"
            ).fetchall()
            assert rows and all(
                late == business_days.late_at(created, last, area)
                for created, last, area, late in rows
            )
            # The export's délais as the app stores them when a thread changes.
            rows = conn.execute(
                "SELECT created_at, first_answer_at, coalesce(processed_at, archived_at), area,"
                " first_answer_delay_tenths, resolution_delay_tenths FROM application"
            ).fetchall()
            assert any(row[-1] is not None for row in rows)
            assert all(
                (first_delay, resolution_delay)
                == state.delay_tenths(created, first_at, resolved_at, area)
                for created, first_at, resolved_at, area, first_delay, resolution_delay in rows
            )
            assert (
                conn.execute(
                    "SELECT count(*) FROM application"
                    " WHERE status NOT IN ('new', 'in_progress') AND late_at IS NOT NULL"
                ).fetchone()[0]
                == 0
            )
            conn.execute(
                "CREATE TEMP TABLE loaded AS"
                " SELECT id, search_public, search_private FROM application"
            )
            conn.execute("SELECT aplus_reindex_search(ARRAY(SELECT id FROM application))")
            # The very vectors the triggers compute: same lexemes at the same positions.
            differ = conn.execute(
                "SELECT count(*) FROM application a JOIN loaded l USING (id)"
                " WHERE a.search_public <> l.search_public"
                " OR a.search_private <> l.search_private"
            ).fetchone()[0]
            assert differ == 0
            assert conn.execute(
                "SELECT count(*) FROM application WHERE search_private <> ''"
                " AND length(strip(search_private)) > 0"
            ).fetchone()[0]
            # Triggers dropped for the load are back, as they were.
            assert before and set(conn.execute(triggers).fetchall()) == before
            # Indexes dropped for the load are back.
            names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
            assert {
                "participation_inbox",
                "application_search_public",
                "answer_application_created",
            } <= names
            assert (
                conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE tablename = 'volume_application_stage'"
                ).fetchone()[0]
                == 0
            )
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_generated_usager_fields_are_known_fields():
    """The demande page labels every field: the loader must only use known codes."""
    import random

    from app.domain import reference
    from bench import volume

    rng = random.Random(1)
    codes = {f["code"] for _ in range(200) for f in volume._usager_fields(rng)}
    assert codes and all(reference.usager_field_label(c) for c in codes)
