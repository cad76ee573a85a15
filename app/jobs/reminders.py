"""Reminders, experts, digests and the inactivity cycle (spec §6 and §7).

Each job carries its schedule (Europe/Paris, see worker.py) and re-reads the state when it
runs. What it does for one demande or one account happens in one transaction together with a
`ReminderMark` whose unique key names the occasion: a second worker, a rerun by hand
(`aplus jobs run NAME`) or a retry finds the mark and does nothing.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from saq import CronJob

from app import clock, notifications
from app.domain import applications, audit, business_days, sessions
from app.piccolo_conf import DB
from app.tables import Application, DigestEntry, ReminderMark, User

log = logging.getLogger("aplus.jobs.reminders")
PARIS = ZoneInfo("Europe/Paris")


async def _once(key: str) -> bool:
    """Claim an occasion; False when it was already taken (the caller then does nothing)."""
    rows = await ReminderMark.raw(
        "INSERT INTO reminder_mark (key, created_at) VALUES ({}, {})"
        " ON CONFLICT (key) DO NOTHING RETURNING id",
        key,
        clock.now(),
    )
    return bool(rows)


async def _taken(keys: list[str]) -> dict[str, datetime]:
    """Which of these occasions were already taken, and when (one query)."""
    if not keys:
        return {}
    rows = await ReminderMark.select(ReminderMark.key, ReminderMark.created_at).where(
        ReminderMark.key.is_in(keys)
    )
    return {r["key"]: r["created_at"] for r in rows}


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


# --- rappel en souffrance ------------------------------------------------------------------

LATE_CRON = "*/10 * * * *"


def late_key(application_id: UUID, late_at: datetime) -> str:
    # The crossing is named by its late_at: an answer moves late_at, so a later crossing is
    # a new occasion while the same one is never mailed twice.
    return f"late:{application_id}:{_stamp(late_at)}"


async def remind_late(ctx: dict) -> int:
    """Instructeurs of the addressed groups hear once that a demande became "en souffrance"."""
    now = clock.now()
    rows = await Application.raw(
        "SELECT a.id, a.late_at FROM application a"
        " WHERE a.status IN ('new', 'in_progress') AND a.late_at < {}",
        now,
    )
    done = await _taken([late_key(r["id"], r["late_at"]) for r in rows])
    told = 0
    for row in rows:
        if late_key(row["id"], row["late_at"]) in done:
            continue
        async with DB.transaction():
            fresh = await Application.raw(
                "SELECT late_at FROM application WHERE id = {}"
                " AND status IN ('new', 'in_progress') AND late_at < {} FOR UPDATE",
                row["id"],
                now,
            )
            if not fresh or not await _once(late_key(row["id"], fresh[0]["late_at"])):
                continue
            told += await notifications.application_late(row["id"])
    log.info("late reminders: %s e-mails", told)
    return told


# --- experts added to stalled demandes (CGU 1.3.4) -----------------------------------------

EXPERTS_CRON = "5-55/10 * * * *"


async def add_experts(ctx: dict) -> int:
    """Experts join demandes unanswered for 5 business days or stalled for 15 (once per cause)."""
    if not await applications.active_expert_ids():
        log.warning("no active expert: stalled demandes wait for one")
        return 0
    now = clock.now()
    # Calendar days first (a business day is at least a day), business days below.
    rows = await Application.raw(
        "SELECT a.id FROM application a WHERE a.status IN ('new', 'in_progress') AND ("
        " (a.first_answer_at IS NULL AND a.created_at < {})"
        " OR a.last_answer_at < {})",
        now - timedelta(days=business_days.EXPERTS_FIRST_ANSWER_BUSINESS_DAYS),
        now - timedelta(days=business_days.EXPERTS_FOLLOW_UP_BUSINESS_DAYS),
    )
    added = 0
    for row in rows:
        async with DB.transaction():
            fresh = await Application.raw(
                "SELECT created_at, last_answer_at, area FROM application WHERE id = {}"
                " AND status IN ('new', 'in_progress') FOR UPDATE",
                row["id"],
            )
            if not fresh:
                continue
            cause, due = business_days.experts_due(
                fresh[0]["created_at"], fresh[0]["last_answer_at"], fresh[0]["area"]
            )
            if now <= due or not await _once(f"experts:{row['id']}:{cause}"):
                continue
            experts = await applications.add_experts_automatically(row["id"])
            if experts:
                await notifications.experts_added(row["id"], experts, cause)
                added += 1
    log.info("experts added to %s demandes", added)
    return added


# --- weekly recap for creators ----------------------------------------------------------------

RECAP_CRON = "0 8 * * 1"


async def weekly_recap(ctx: dict) -> int:
    """Monday morning: each creator with "Traitée" demandes to archive gets one list."""
    year, week, _ = clock.now().astimezone(PARIS).isocalendar()
    rows = await Application.raw(
        "SELECT creator, array_agg(id ORDER BY processed_at, id) AS ids FROM application"
        " WHERE status = 'processed' GROUP BY creator"
    )
    sent = 0
    for row in rows:
        async with DB.transaction():
            if await _once(f"recap:{row['creator']}:{year}-W{week:02d}"):
                sent += await notifications.weekly_recap(row["creator"], list(row["ids"]))
    log.info("weekly recaps: %s", sent)
    return sent


# --- daily digest -------------------------------------------------------------------------------

DIGEST_CRON = "0 7 * * *"


async def send_digests(ctx: dict) -> int:
    """Morning: one e-mail per digest user with the demandes that had news since the last."""
    users = await DigestEntry.raw('SELECT DISTINCT "user" FROM digest_entry')
    sent = 0
    for row in users:
        # The entries leave the table with the e-mail's commit (see notifications.send_digest).
        async with DB.transaction():
            sent += await notifications.send_digest(row["user"])
    log.info("digests: %s", sent)
    return sent


# --- inactivity cycle -----------------------------------------------------------------------

INACTIVITY_CRON = "30 6 * * *"
# Months without login before each step (spec §6).
FIRST_REMINDER_MONTHS, LAST_REMINDER_MONTHS, DISABLE_MONTHS = 4, 5, 6
# A step never follows the previous one closer than this (in days, as the steps), so a job
# that starts late (or a new deployment meeting old accounts) still warns twice before
# deactivating.
STEP_GAP = timedelta(days=14)


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 March + 1 → 30 April)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def inactivity_key(user_id: UUID, since: datetime, months: int) -> str:
    # Named by the last login: a login starts a new cycle whose steps are new occasions.
    return f"inactivity:{user_id}:{_stamp(since)}:{months}"


async def inactivity_cycle(ctx: dict) -> int:
    """No login for 4 months: a reminder; 5: a last one; 6: the account is deactivated."""
    now = clock.now()
    today = now.astimezone(PARIS).date()
    threshold = datetime.combine(
        add_months(today, -FIRST_REMINDER_MONTHS), datetime.max.time(), PARIS
    )
    rows = await User.raw(
        "SELECT id, COALESCE(last_seen_at, created_at) AS since FROM app_user"
        " WHERE disabled_at IS NULL AND COALESCE(last_seen_at, created_at) <= {}",
        threshold,
    )
    steps = (FIRST_REMINDER_MONTHS, LAST_REMINDER_MONTHS, DISABLE_MONTHS)
    done = await _taken([inactivity_key(r["id"], r["since"], n) for r in rows for n in steps])
    acted = 0
    for row in rows:
        since_day = row["since"].astimezone(PARIS).date()
        previous: datetime | None = None
        for months in steps:
            key = inactivity_key(row["id"], row["since"], months)
            if key in done:
                previous = done[key]
                continue
            if today < add_months(since_day, months):
                break
            if previous is not None and today - previous.astimezone(PARIS).date() < STEP_GAP:
                break
            acted += await _inactivity_step(row["id"], row["since"], months, today)
            break
    log.info("inactivity steps taken: %s", acted)
    return acted


async def _inactivity_step(user_id: UUID, since: datetime, months: int, today: date) -> int:
    async with DB.transaction():
        # Re-read: a login since the scan starts a new cycle instead.
        fresh = await User.raw(
            "SELECT 1 FROM app_user WHERE id = {} AND disabled_at IS NULL"
            " AND COALESCE(last_seen_at, created_at) = {} FOR UPDATE",
            user_id,
            since,
        )
        if not fresh or not await _once(inactivity_key(user_id, since, months)):
            return 0
        if months == DISABLE_MONTHS:
            await User.update({User.disabled_at: clock.now()}).where(User.id == user_id)
            await sessions.revoke_all_sessions(user_id)
            await audit.record(
                audit.Event.USER_DISABLED, user_id=user_id, changed_fields=["disabled_at"]
            )
            return 1
        gaps = 2 if months == FIRST_REMINDER_MONTHS else 1
        disable_on = max(
            add_months(since.astimezone(PARIS).date(), DISABLE_MONTHS),
            today + gaps * STEP_GAP,
        )
        step = "first" if months == FIRST_REMINDER_MONTHS else "last"
        await notifications.inactivity_reminder(
            user_id, step, datetime.combine(disable_on, datetime.min.time(), PARIS)
        )
        return 1


CRON_JOBS = [
    CronJob(remind_late, cron=LATE_CRON, unique=True),
    CronJob(add_experts, cron=EXPERTS_CRON, unique=True),
    CronJob(weekly_recap, cron=RECAP_CRON, unique=True),
    CronJob(send_digests, cron=DIGEST_CRON, unique=True),
    CronJob(inactivity_cycle, cron=INACTIVITY_CRON, unique=True),
]
