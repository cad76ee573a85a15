"""Who else has a demande open right now ("X consulte cette demande").

The demande page polls a small fragment every POLL_SECONDS with JavaScript on; each poll is a
heartbeat of the viewer and returns the others seen within EXPIRY. Without JavaScript nothing
is polled, so nobody is shown as present from a page that cannot refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from app import clock
from app.tables import Application

POLL_SECONDS = 4
# Two missed polls and a slow network: after that the person has left the page.
EXPIRY = timedelta(seconds=12)


@dataclass(frozen=True)
class Present:
    first_name: str
    last_name: str
    writing: bool

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


async def heartbeat(application_id: UUID, user_id: UUID, *, writing: bool) -> list[Present]:
    """Record that the user has the demande open; the others present, by name.

    Only current participants with an active account are shown: the heartbeat route already
    refuses anyone who cannot read the demande, and a right lost since then hides the row.
    """
    now = clock.now()
    rows = await Application.raw(
        "WITH gone AS (DELETE FROM application_presence"
        " WHERE application = {} AND seen_at < {} RETURNING 1),"
        ' mine AS (INSERT INTO application_presence (application, "user", writing, seen_at)'
        ' VALUES ({}, {}, {}, {}) ON CONFLICT (application, "user")'
        " DO UPDATE SET writing = EXCLUDED.writing, seen_at = EXCLUDED.seen_at RETURNING 1)"
        " SELECT u.first_name, u.last_name, pr.writing FROM application_presence pr"
        ' JOIN app_user u ON u.id = pr."user" AND u.disabled_at IS NULL'
        ' JOIN participation p ON p.application = pr.application AND p."user" = pr."user"'
        ' WHERE pr.application = {} AND pr."user" <> {} AND pr.seen_at >= {}'
        " ORDER BY u.last_name, u.first_name",
        application_id,
        now - EXPIRY,
        application_id,
        user_id,
        writing,
        now,
        application_id,
        user_id,
        now - EXPIRY,
    )
    return [Present(r["first_name"], r["last_name"], r["writing"]) for r in rows]
