"""The inbox CSV export: metadata of every demande in the viewer's scope, never a personal
field, streamed by batches without holding the event loop (spec §4.4)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from app import exports
from app.domain import business_days
from app.domain.applications import STATUS_LABELS
from app.policies import Viewer
from app.tables import Application

CSV_COLUMNS = [
    "id",
    "statut",
    "date_creation",
    "date_archivage",
    "groupes",
    "delai_premiere_reponse_heures_ouvrees",
    "delai_resolution_heures_ouvrees",
    "utilite",
    "non_pertinente",
]
_EXPORT_BATCH = 2000
# Rows formatted between two turns of the event loop: ~11 µs of CPU each (bench/RESULTS.md),
# so a slice blocks the worker's other requests a few milliseconds, well under 20 ms.
_EXPORT_SLICE = 250


def _hours(start: datetime, end: datetime | None, area: str) -> str:
    if end is None:
        return ""
    return f"{business_days.business_hours_between(start, end, area):.1f}"


def export_row(r: Mapping[str, Any]) -> list[Any]:
    """One CSV line of the export (kept apart so bench/ times exactly this code)."""
    resolved = r["processed_at"] or r["archived_at"]
    return exports.safe_row(
        [
            r["id"],
            STATUS_LABELS[r["status"]],
            r["created_at"].isoformat(),
            r["archived_at"].isoformat() if r["archived_at"] else "",
            r["groups"] or "",
            _hours(r["created_at"], r["first_answer_at"], r["area"]),
            _hours(r["created_at"], resolved, r["area"]),
            r["usefulness"] or "",
            "oui" if r["is_irrelevant"] else "non",
        ]
    )


async def export_csv(viewer: Viewer) -> AsyncIterator[str]:
    """Metadata of every demande in the scope, never a personal field; streamed by batches."""
    buffer = io.StringIO()
    writer = exports.csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    after = UUID(int=0)
    while True:
        rows = await Application.raw(
            "SELECT a.id, a.status, a.created_at, a.archived_at, a.first_answer_at,"
            " a.processed_at, a.area, a.usefulness, a.is_irrelevant,"
            " (SELECT string_agg(g.name, ' | ' ORDER BY g.name) FROM application_group ag"
            '   JOIN app_group g ON g.id = ag."group" WHERE ag.application = a.id) AS groups'
            " FROM participation p JOIN application a ON a.id = p.application"
            ' WHERE p."user" = {} AND p.application > {} ORDER BY p.application LIMIT {}',
            viewer.id,
            after,
            _EXPORT_BATCH,
        )
        if not rows:
            return
        for at in range(0, len(rows), _EXPORT_SLICE):
            buffer.seek(0)
            buffer.truncate()
            for r in rows[at : at + _EXPORT_SLICE]:
                writer.writerow(export_row(r))
            yield buffer.getvalue()
            # Sending a chunk need not suspend (the transport buffers it): give the loop a turn.
            await asyncio.sleep(0)
        after = rows[-1]["id"]
