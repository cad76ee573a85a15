"""Retention (CGU 1.4.5 and 2.3, spec §7–8): what the terms promise to erase, erased.

Every rule works by batches of `BATCH` rows, one transaction each, walking its index by keyset;
rows are locked with SKIP LOCKED and their condition re-read under the lock, so two workers
(or a worker and `aplus jobs run`) share the work instead of doing it twice, and a demande
reopened meanwhile is left alone. Each function is idempotent: a second run finds nothing.
What each rule erases and keeps, column by column: docs/decisions/2026-12-01-retention.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app import clock
from app.domain import files
from app.jobs.registry import _Sql, cron_jobs, scheduled
from app.piccolo_conf import DB
from app.settings import get_settings

BATCH = 500
OUTBOX_SENT_DAYS = 30
# An expired login link still answers "lien expiré" (instead of "lien inconnu") for a day.
LINK_GRACE = timedelta(days=1)
JOB_RUNS_DAYS = 90
# Finished rows of the SAQ queue (its own sweep deletes them too, but only while it runs).
SAQ_JOBS_TABLE = "saq_jobs"


@dataclass(frozen=True)
class Rule:
    """A purge: which rows of which table are expired at a given time."""

    name: str
    table: str
    key: str
    # SQL with one {} per value that `cutoffs(now)` returns.
    condition: str
    cutoffs: Callable[[datetime], list]


def _days_ago(days: Callable[[], int]) -> Callable[[datetime], list]:
    return lambda now: [now - timedelta(days=days())]


PURGES = [
    Rule("login_links", "login_token", "id", "expires_at < {}", lambda now: [now - LINK_GRACE]),
    # Dead however they died: expired, revoked, or idle past SESSION_IDLE_DAYS.
    Rule(
        "sessions",
        "user_session",
        "id",
        "expires_at < {} OR revoked_at IS NOT NULL OR last_seen_at < {}",
        lambda now: [now, now - timedelta(days=get_settings().session_idle_days)],
    ),
    Rule(
        "rate_limits",
        "rate_limit_hit",
        "id",
        "created_at < {}",
        lambda now: [now - timedelta(minutes=get_settings().login_rate_window_minutes)],
    ),
    # Unsent e-mails are never purged: the sweep still owes them to someone.
    Rule("outbox", "outbox_email", "id", "sent_at < {}", _days_ago(lambda: OUTBOX_SENT_DAYS)),
    Rule(
        "audit_events",
        "audit_event",
        "id",
        "created_at < {}",
        _days_ago(lambda: get_settings().events_retention_days),
    ),
    # SAQ's own expiry (finished + ttl), which its sweep applies only while a worker runs it.
    Rule(
        "saq_jobs",
        SAQ_JOBS_TABLE,
        "key",
        "status IN ('aborted', 'complete', 'failed') AND expire_at < {}",
        lambda now: [int(now.timestamp())],
    ),
    Rule("job_runs", "job_run", "id", "finished_at < {}", _days_ago(lambda: JOB_RUNS_DAYS)),
]


async def _table_exists(table: str) -> bool:
    # SAQ creates its tables when a worker first connects, which may come after this run.
    rows = await _Sql.raw("SELECT to_regclass({}) IS NOT NULL AS present", table)
    return rows[0]["present"]


async def count_expired(rule: Rule, now: datetime) -> int:
    if not await _table_exists(rule.table):
        return 0
    rows = await _Sql.raw(
        f"SELECT count(*) AS n FROM {rule.table} WHERE {rule.condition}", *rule.cutoffs(now)
    )
    return rows[0]["n"]


async def purge(rule: Rule) -> int:
    """Delete the rule's expired rows, BATCH per transaction; the number deleted."""
    args = rule.cutoffs(clock.now())
    total = 0
    if not await _table_exists(rule.table):
        return total
    while True:
        async with DB.transaction():
            rows = await _Sql.raw(
                f"DELETE FROM {rule.table} WHERE {rule.key} IN (SELECT {rule.key} FROM"
                f" {rule.table} WHERE ({rule.condition}) LIMIT {BATCH:d} FOR UPDATE SKIP LOCKED)"
                " RETURNING 1 AS deleted",
                *args,
            )
        total += len(rows)
        if len(rows) < BATCH:
            return total


def _rule(name: str) -> Rule:
    return next(r for r in PURGES if r.name == name)


# --- files: 15 days after upload (CGU 1.4.5) -----------------------------------------------


def files_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=get_settings().files_retention_days)


def personal_data_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=get_settings().personal_data_retention_days)


async def _erase_files(where: str, *args) -> list[UUID]:
    """Blank the names of the locked attachments matched, stamp them, then drop their bytes."""
    rows = await _Sql.raw(
        f"UPDATE attachment SET filename = '', deleted_at = coalesce(deleted_at, {{}})"
        f" WHERE {where} RETURNING id",
        clock.now(),
        *args,
    )
    ids = [r["id"] for r in rows]
    # Inside the transaction: if the commit fails, the row still says "not deleted" and the
    # next run erases it again (removing a missing file is a no-op).
    for attachment_id in ids:
        files.remove(attachment_id)
    return ids


@scheduled("5 3 * * *")
async def purge_files(ctx: dict) -> dict[str, int]:
    """Erase the bytes and the name of every file older than FILES_RETENTION_DAYS."""
    cutoff = files_cutoff(clock.now())
    total = 0
    after: tuple[datetime, UUID] | None = None
    while True:
        async with DB.transaction():
            keyset = "" if after is None else " AND (created_at, id) > ({}, {})"
            rows = await _Sql.raw(
                "SELECT id, created_at FROM attachment WHERE deleted_at IS NULL"
                f" AND created_at < {{}}{keyset} ORDER BY created_at, id LIMIT {BATCH:d}"
                " FOR UPDATE SKIP LOCKED",
                cutoff,
                *(after or ()),
            )
            if rows:
                erased = await _erase_files(
                    "id = ANY({}) AND deleted_at IS NULL", [r["id"] for r in rows]
                )
                total += len(erased)
        if len(rows) < BATCH:
            return {"files": total}
        after = (rows[-1]["created_at"], rows[-1]["id"])


# --- personal data: 90 days after archiving (CGU 2.3) --------------------------------------

# Everything a person typed or that names the usager; ids, dates, kinds and flags stay
# for the statistics. The search vectors follow through the triggers (empty once wiped).
_WIPE_APPLICATIONS = (
    "UPDATE application SET personal_data_wiped_at = {}, subject = '',"
    " usager_first_name = '', usager_last_name = '', usager_birth_date = NULL,"
    " usager_fields = '[]'::jsonb, description = '', signature = '', creation_key = NULL"
    " WHERE id = ANY({})"
)
_WIPE_ANSWERS = (
    "UPDATE answer SET body = '', signature = '', added_fields = '[]'::jsonb"
    " WHERE application = ANY({})"
)
_WIPE_MANDATS = "DELETE FROM mandat WHERE application = ANY({})"


@scheduled("15 3 * * *")
async def wipe_personal_data(ctx: dict) -> dict[str, int]:
    """Erase the personal data of demandes archived PERSONAL_DATA_RETENTION_DAYS ago."""
    cutoff = personal_data_cutoff(clock.now())
    counts = {"demandes": 0, "files": 0}
    after: tuple[datetime, UUID] | None = None
    while True:
        async with DB.transaction():
            keyset = "" if after is None else " AND (archived_at, id) > ({}, {})"
            # Re-read under the lock: a demande reopened since is no longer archived.
            rows = await _Sql.raw(
                "SELECT id, archived_at FROM application WHERE personal_data_wiped_at IS NULL"
                f" AND archived_at IS NOT NULL AND archived_at < {{}} AND status = 'archived'"
                f"{keyset} ORDER BY archived_at, id LIMIT {BATCH:d} FOR UPDATE SKIP LOCKED",
                cutoff,
                *(after or ()),
            )
            ids = [r["id"] for r in rows]
            if ids:
                await _Sql.raw(_WIPE_APPLICATIONS, clock.now(), ids)
                await _Sql.raw(_WIPE_ANSWERS, ids)
                await _Sql.raw(_WIPE_MANDATS, ids)
                counts["files"] += len(await _erase_files("application = ANY({})", ids))
                counts["demandes"] += len(ids)
        if len(rows) < BATCH:
            return counts
        after = (rows[-1]["archived_at"], rows[-1]["id"])


# --- purges of expired technical rows --------------------------------------------------------


@scheduled("25 3 * * *")
async def purge_login_links(ctx: dict) -> dict[str, int]:
    return {"login_links": await purge(_rule("login_links"))}


@scheduled("27 3 * * *")
async def purge_sessions(ctx: dict) -> dict[str, int]:
    return {"sessions": await purge(_rule("sessions"))}


@scheduled("29 3 * * *")
async def purge_rate_limits(ctx: dict) -> dict[str, int]:
    return {"rate_limits": await purge(_rule("rate_limits"))}


@scheduled("31 3 * * *")
async def purge_outbox(ctx: dict) -> dict[str, int]:
    return {"outbox": await purge(_rule("outbox"))}


@scheduled("33 3 * * *")
async def purge_audit_events(ctx: dict) -> dict[str, int]:
    return {"audit_events": await purge(_rule("audit_events"))}


@scheduled("35 3 * * *")
async def purge_job_rows(ctx: dict) -> dict[str, int]:
    return {
        "saq_jobs": await purge(_rule("saq_jobs")),
        "job_runs": await purge(_rule("job_runs")),
    }


CRON_JOBS = cron_jobs(
    purge_files,
    wipe_personal_data,
    purge_login_links,
    purge_sessions,
    purge_rate_limits,
    purge_outbox,
    purge_audit_events,
    purge_job_rows,
)


async def dry_run() -> list[tuple[str, int]]:
    """What each rule would erase now: counts only, never a value."""
    now = clock.now()
    files_rows = await _Sql.raw(
        "SELECT count(*) AS n FROM attachment WHERE deleted_at IS NULL AND created_at < {}",
        files_cutoff(now),
    )
    wipe_rows = await _Sql.raw(
        "SELECT count(*) AS n FROM application WHERE personal_data_wiped_at IS NULL"
        " AND archived_at IS NOT NULL AND archived_at < {} AND status = 'archived'",
        personal_data_cutoff(now),
    )
    counts = [
        ("fichiers à effacer", files_rows[0]["n"]),
        ("demandes dont effacer les données personnelles", wipe_rows[0]["n"]),
    ]
    labels = {
        "login_links": "liens de connexion expirés",
        "sessions": "sessions expirées ou révoquées",
        "rate_limits": "compteurs de tentatives de connexion échus",
        "outbox": f"e-mails envoyés depuis plus de {OUTBOX_SENT_DAYS} jours",
        "audit_events": "événements du journal d'audit échus",
        "saq_jobs": "tâches terminées de la file",
        "job_runs": f"exécutions de tâches de plus de {JOB_RUNS_DAYS} jours",
    }
    for rule in PURGES:
        counts.append((labels[rule.name], await count_expired(rule, now)))
    return counts
