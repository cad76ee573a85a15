"""One function per notification event: who is told, with which template.

A request only writes the rendered e-mail to the outbox and enqueues its sending; a worker
sends it. E-mails carry a link, never the content of a demande.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import clock
from app.jobs.queue import NORMAL, URGENT, enqueue
from app.settings import get_settings
from app.tables import OutboxEmail

PARIS = ZoneInfo("Europe/Paris")
# The advisory lock key of an outbox row, its id being the query's parameter.
OUTBOX_LOCK = "hashtextextended({}, 0)"
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "emails"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["heure"] = lambda dt: dt.astimezone(PARIS).strftime("%H:%M")
_env.filters["date_fr"] = lambda dt: dt.astimezone(PARIS).strftime("%d/%m/%Y")


def render_email(event: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of an event's e-mail."""
    context = {"base_url": get_settings().base_url, **context}
    subject = _env.get_template(f"{event}.subject.txt").render(context).strip()
    text = _env.get_template(f"{event}.txt").render(context)
    html = _env.get_template(f"{event}.html").render(context)
    return f"[A+] {subject}", text, html


async def queue_email(
    event: str, recipients: list[str], context: dict[str, Any], *, urgent: bool = False
) -> OutboxEmail:
    """Write the e-mail to the outbox and enqueue its sending."""
    subject, text, html = render_email(event, context)
    row = OutboxEmail(
        event=event,
        recipients=recipients,
        subject=subject,
        text=text,
        html=html,
        urgent=1 if urgent else 0,
        created_at=clock.now(),
    )
    await row.save()
    # Held until the caller's transaction ends: the job, enqueued through another connection
    # before that commit, waits on it instead of finding no row (see jobs.mail.send_email).
    await OutboxEmail.raw(f"SELECT pg_advisory_xact_lock({OUTBOX_LOCK})", str(row.id))
    await enqueue(
        "send_email",
        key=f"mail:{row.id}",
        priority=URGENT if urgent else NORMAL,
        outbox_id=str(row.id),
    )
    return row


# --- events -------------------------------------------------------------------------------


async def login_link(email: str, url: str, expires_at: datetime) -> None:
    await queue_email("login_link", [email], {"url": url, "expires_at": expires_at}, urgent=True)


async def welcome(email: str, created_by_group: str | None = None) -> None:
    await queue_email(
        "welcome",
        [email],
        {"login_url": get_settings().base_url + "/connexion", "group_name": created_by_group},
    )


#: Fake contexts for the development preview of each e-mail (/dev/mails/apercu).
PREVIEWS: dict[str, dict[str, Any]] = {
    "login_link": {
        "url": "http://localhost:8000/connexion/lien/exemple",
        "expires_at": datetime(2026, 1, 5, 10, 30, tzinfo=PARIS),
    },
    "welcome": {"login_url": "http://localhost:8000/connexion", "group_name": "CAF de Paris"},
}


# --- demandes (spec §6): a link, never the subject, the usager or a message -----------------


async def new_application(email: str, url: str) -> None:
    await queue_email("new_application", [email], {"url": url})


async def new_answer(email: str, url: str) -> None:
    await queue_email("new_answer", [email], {"url": url})


async def invitation(email: str, url: str) -> None:
    await queue_email("invitation", [email], {"url": url})


async def demande_bal(
    event: str, email: str, url: str, *, group_name: str, members: list[str]
) -> None:
    """A group's shared mailbox: the link, and who in the group can open the demande."""
    await queue_email(event, [email], {"url": url, "group_name": group_name, "members": members})


_DEMANDE_URL = "http://localhost:8000/demandes/00000000-0000-0000-0000-000000000000"
PREVIEWS.update(
    {
        "new_application": {"url": _DEMANDE_URL},
        "new_answer": {"url": _DEMANDE_URL},
        "invitation": {"url": _DEMANDE_URL},
        "new_application_bal": {
            "url": _DEMANDE_URL,
            "group_name": "CAF de Paris",
            "members": ["Chloé Bernard", "Hugo Moreau"],
        },
        "new_answer_bal": {
            "url": _DEMANDE_URL,
            "group_name": "CAF de Paris",
            "members": ["Chloé Bernard", "Hugo Moreau"],
        },
    }
)


# --- jobs (spec §6, app/jobs/reminders.py): links only --------------------------------------


async def late_reminder(email: str, url: str, group_name: str | None) -> None:
    await queue_email("late_reminder", [email], {"url": url, "group_name": group_name})


async def experts_added(email: str, url: str, cause: str) -> None:
    await queue_email("experts_added", [email], {"url": url, "cause": cause})


async def weekly_recap(email: str, urls: list[str]) -> None:
    await queue_email("weekly_recap", [email], {"urls": urls})


async def daily_digest(email: str, items: list[dict]) -> None:
    """`items`: one per demande, {"url", "label"}; the label names the events, never content."""
    await queue_email(
        "daily_digest",
        [email],
        {"items": items, "profile_url": get_settings().base_url + "/profil"},
    )


async def inactivity(step: str, email: str, disable_on: datetime) -> None:
    """`step`: "first" (4 months) or "last" (5 months); always immediate."""
    await queue_email(
        f"inactivity_{step}",
        [email],
        {"login_url": get_settings().base_url + "/connexion", "disable_on": disable_on},
    )


_LATER = datetime(2026, 6, 5, 6, 30, tzinfo=PARIS)
PREVIEWS.update(
    {
        "late_reminder": {"url": _DEMANDE_URL, "group_name": "CAF de Paris"},
        "experts_added": {"url": _DEMANDE_URL, "cause": "no_answer"},
        "weekly_recap": {"urls": [_DEMANDE_URL, _DEMANDE_URL.replace("0000-0000", "0000-0001")]},
        "daily_digest": {
            "items": [
                {"url": _DEMANDE_URL, "label": "Nouvelle demande"},
                {"url": _DEMANDE_URL, "label": "2 nouveaux messages"},
            ],
            "profile_url": "http://localhost:8000/profil",
        },
        "inactivity_first": {"login_url": "http://localhost:8000/connexion", "disable_on": _LATER},
        "inactivity_last": {"login_url": "http://localhost:8000/connexion", "disable_on": _LATER},
    }
)
