"""The inbox CSV export: metadata of every demande in the viewer's scope, never a personal
field, streamed by batches without holding the event loop (spec §4.4)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
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


def export_row(r: Mapping[str, Any]) -> list[Any]:
    """One CSV line of the export (kept apart so bench/ times exactly this code).

    Only the group names and the usefulness are text from the database: the formula guard
    runs on those two cells (the others are ids, dates, numbers and fixed labels), a fifth of
    the row's CPU spent on cells that can never start a formula.
    """
    created, archived = r["created_at"], r["archived_at"]
    first, resolved = business_days.business_hours_since(
        created, (r["first_answer_at"], r["processed_at"] or archived), r["area"]
    )
    return [
        r["id"],
        STATUS_LABELS[r["status"]],
        created.isoformat(),
        archived.isoformat() if archived else "",
        exports.safe_cell(r["groups"] or ""),
        "" if first is None else f"{first:.1f}",
        "" if resolved is None else f"{resolved:.1f}",
        exports.safe_cell(r["usefulness"] or ""),
        "oui" if r["is_irrelevant"] else "non",
    ]


def _format_rows(rows: list) -> list[list[Any]]:
    return [export_row(r) for r in rows]


async def export_csv(viewer: Viewer) -> AsyncIterator[str]:
    """Metadata of every demande in the scope, never a personal field; streamed by batches."""
    buffer = io.StringIO()
    writer = exports.csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    after = UUID(int=0)
    areas: set[str] = set()
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
        # A département's first row builds its business-day calendar, and the process's very
        # first one loads the holiday rules (~50 ms in one go, bench/RESULTS.md): in a thread,
        # so the event loop keeps turning (the GIL is handed over every 5 ms).
        first_rows = list({r["area"]: r for r in rows if r["area"] not in areas}.values())
        if first_rows:
            await asyncio.to_thread(_format_rows, first_rows)
            areas.update(r["area"] for r in first_rows)
        for at in range(0, len(rows), _EXPORT_SLICE):
            buffer.seek(0)
            buffer.truncate()
            for r in rows[at : at + _EXPORT_SLICE]:
                writer.writerow(export_row(r))
            yield buffer.getvalue()
            # Sending a chunk need not suspend (the transport buffers it): give the loop a turn.
            await asyncio.sleep(0)
        after = rows[-1]["id"]
