"""The inbox CSV export: metadata of every demande in the viewer's scope, never a personal
field (spec §4.4).

PostgreSQL writes the CSV itself (`COPY (…) TO STDOUT`): every cell is a stored value or a
formatting of one — the délais are computed when a thread changes (`state.delay_tenths`),
the formula guard is `aplus_safe_cell`, the twin of `exports.safe_cell` — so the worker only
relays bytes, whatever the size of the scope (docs/decisions/2026-12-02-export-in-copy.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
# Chunks received from PostgreSQL but not yet sent: a slow download holds its connection
# rather than the whole file in memory (a chunk is one network read, at most ~64 kB).
QUEUED_CHUNKS = 16


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_STATUS_LABEL_SQL = (
    "CASE a.status "
    + " ".join(f"WHEN {_literal(s)} THEN {_literal(label)}" for s, label in STATUS_LABELS.items())
    + " END"
)
# Times in UTC, ISO 8601 with microseconds; délais in business hours with one decimal.
_UTC_ISO = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""
EXPORT_SQL = f"""
WITH mine AS (SELECT p.application FROM participation p WHERE p."user" = $1),
-- The addressed groups' names, aggregated in one pass (a subquery per row costs 12 % more).
names AS (
  SELECT ag.application, string_agg(g.name, ' | ' ORDER BY g.name) AS names
    FROM mine m
    JOIN application_group ag ON ag.application = m.application
    JOIN app_group g ON g.id = ag."group"
   GROUP BY ag.application)
SELECT a.id AS id,
       {_STATUS_LABEL_SQL} AS statut,
       to_char(a.created_at AT TIME ZONE 'UTC', {_UTC_ISO}) AS date_creation,
       to_char(a.archived_at AT TIME ZONE 'UTC', {_UTC_ISO}) AS date_archivage,
       aplus_safe_cell(n.names) AS groupes,
       (a.first_answer_delay_tenths / 10.0)::numeric(12, 1)
         AS delai_premiere_reponse_heures_ouvrees,
       (a.resolution_delay_tenths / 10.0)::numeric(12, 1) AS delai_resolution_heures_ouvrees,
       aplus_safe_cell(a.usefulness) AS utilite,
       CASE WHEN a.is_irrelevant THEN 'oui' ELSE 'non' END AS non_pertinente
  FROM mine m
  JOIN application a ON a.id = m.application
  LEFT JOIN names n ON n.application = a.id
 ORDER BY a.id
"""


@asynccontextmanager
async def _connection() -> AsyncIterator[Any]:
    """A raw asyncpg connection: the current transaction's (tests run in one), else one from
    the pool in the web worker, else a new one."""
    engine = Application._meta.db
    transaction = engine.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
    elif engine.pool is not None:
        async with engine.pool.acquire() as connection:
            yield connection
    else:
        connection = await engine.get_new_connection()
        try:
            yield connection
        finally:
            await connection.close()


async def stream_copy(query: str, *args: Any) -> AsyncIterator[bytes]:
    """`COPY (query) TO STDOUT` as semicolon CSV with a header, chunk by chunk as PostgreSQL
    sends it. At most `QUEUED_CHUNKS` wait for the reader: beyond, the copy waits (TCP
    back-pressure on PostgreSQL). Closing the iterator early cancels the copy and gives the
    connection back."""
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
    room = asyncio.Semaphore(QUEUED_CHUNKS)

    async def keep(chunk: bytes) -> None:
        await room.acquire()
        # asyncpg lends a bytearray; the response wants bytes.
        chunks.put_nowait(bytes(chunk))

    async def copy() -> None:
        try:
            async with _connection() as connection:
                await connection.copy_from_query(
                    query, *args, output=keep, format="csv", delimiter=";", header=True
                )
        finally:
            chunks.put_nowait(None)

    task = asyncio.create_task(copy())
    try:
        while (chunk := await chunks.get()) is not None:
            room.release()
            yield chunk
            # Neither a queued chunk nor sending it need suspend: give the loop a turn.
            await asyncio.sleep(0)
        await task  # a failed copy raises here rather than ending the file silently
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def export_csv(viewer: Viewer) -> AsyncIterator[bytes]:
    """Metadata of every demande in the scope, never a personal field; streamed."""
    return stream_copy(EXPORT_SQL, viewer.id)
