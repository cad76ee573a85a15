"""The inbox CSV export: délais stored when the thread changes, PostgreSQL writing the CSV, and
the stream that relays it without holding memory or a connection beyond its reader."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from factories import make_application, make_group, make_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import clock, exports
from app.domain import applications, inbox_export, sessions
from app.domain.applications import state
from app.tables import Application, User

PARIS = ZoneInfo("Europe/Paris")


def set_now(moment: datetime) -> None:
    clock.reset()
    clock.travel((moment - clock.now()).total_seconds())


async def export_rows(user) -> list[dict]:
    viewer = await sessions.build_viewer(await User.select().where(User.id == user.id).first())
    data = b"".join([chunk async for chunk in inbox_export.export_csv(viewer)])
    return list(csv.DictReader(io.StringIO(data.decode()), delimiter=";"))


def test_delays_count_business_hours_only():
    friday_4pm = datetime(2026, 11, 13, 16, tzinfo=PARIS)
    monday_10am = datetime(2026, 11, 16, 10, tzinfo=PARIS)
    # 11 November (Wednesday) is a holiday: Tuesday 9:00 → Thursday 9:00 is one business day.
    tuesday_9am = datetime(2026, 11, 10, 9, tzinfo=PARIS)
    thursday_9am = datetime(2026, 11, 12, 9, tzinfo=PARIS)
    assert state.delay_tenths(friday_4pm, monday_10am, None, "75") == (180, None)
    assert state.delay_tenths(tuesday_9am, None, thursday_9am, "75") == (None, 240)
    assert state.delay_tenths(friday_4pm, None, None, "75") == (None, None)


async def test_the_export_gives_the_stored_delays_and_each_change_of_thread_updates_them(db):
    caf, fs = await make_group("caf"), await make_group("france-services")
    aidant = await make_user(helper_in=[fs])
    instructeur = await make_user(instructor_in=[caf])
    try:
        set_now(datetime(2026, 11, 13, 16, tzinfo=PARIS))  # a Friday
        app = await make_application(by=aidant, to=[caf], from_group=fs)
        [row] = await export_rows(aidant)
        assert row["statut"] == "Nouvelle"
        assert row["delai_premiere_reponse_heures_ouvrees"] == ""
        assert row["date_archivage"] == ""
        set_now(datetime(2026, 11, 16, 10, 30, tzinfo=PARIS))  # Monday
        await applications.post_answer(app.id, instructeur, body="Je regarde")
        set_now(datetime(2026, 11, 17, 9, tzinfo=PARIS))  # Tuesday
        await applications.post_answer(app.id, instructeur, body="Fait", marks_processed=True)
        [row] = await export_rows(instructeur)
        # Friday 16:00 → Monday 10:30: 8 h + 10.5 h; → Tuesday 9:00: 8 h + 24 h + 9 h.
        assert row["delai_premiere_reponse_heures_ouvrees"] == "18.5"
        assert row["delai_resolution_heures_ouvrees"] == "41.0"
        assert row["statut"] == "Traitée" and row["groupes"] == caf.name
        # The creator writes again: no longer "traitée", no resolution.
        await applications.post_answer(app.id, aidant, body="Pas encore reçu")
        [row] = await export_rows(aidant)
        assert row["delai_resolution_heures_ouvrees"] == ""
        assert row["delai_premiere_reponse_heures_ouvrees"] == "18.5"
        set_now(datetime(2026, 11, 18, 12, tzinfo=PARIS))
        await applications.archive(app.id, aidant, "oui")
        [row] = await export_rows(aidant)
        assert row["delai_resolution_heures_ouvrees"] == "68.0"
        assert row["statut"] == "Archivée" and row["utilite"] == "oui"
        assert row["date_archivage"].startswith("2026-11-18T11:00:00.")
        assert row["date_archivage"].endswith("+00:00")
        stored = await Application.select(Application.resolution_delay_tenths).first()
        assert stored["resolution_delay_tenths"] == 680
    finally:
        clock.reset()


_CELLS = st.text(max_size=6) | st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", " ="]).flatmap(
    lambda prefix: st.text(max_size=5).map(lambda rest: prefix + rest)
)


# The database is only read: the same rolled-back transaction serves every example.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_CELLS, min_size=1, max_size=20))
async def test_the_sql_formula_guard_is_the_python_one(db, values):
    values = [v.replace("\x00", "") for v in values]  # PostgreSQL text holds no NUL
    rows = await Application.raw(
        "SELECT aplus_safe_cell(v) AS cell FROM unnest({}::text[]) WITH ORDINALITY AS t(v, i)"
        " ORDER BY i",
        values,
    )
    assert [r["cell"] for r in rows] == [exports.safe_cell(v) for v in values]


async def test_the_stream_keeps_few_chunks_and_lets_other_tasks_run(migrated, monkeypatch):
    monkeypatch.setattr(inbox_export, "QUEUED_CHUNKS", 2)
    # ~20 MB of CSV: many network reads, so many chunks, and more than the sockets buffer.
    query = "SELECT g AS n, repeat('x', 1000) AS filler FROM generate_series(1, $1) g"
    turns = 0

    async def other_request() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_request())
    try:
        stream = inbox_export.stream_copy(query, 20_000)
        first = await anext(stream)
        assert first.startswith(b"n;filler\n")
        # The reader waits: the copy waits too (still running) instead of reading it all.
        await asyncio.sleep(0.3)
        [row] = await Application.raw(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE query LIKE 'COPY (SELECT g AS n, repeat%' AND state = 'active'"
        )
        assert row["n"] == 1
        kept = inbox_export.QUEUED_CHUNKS
        rest, seen_turns = [], []
        async for chunk in stream:
            rest.append(chunk)
            seen_turns.append(turns)
    finally:
        ticker.cancel()
    lines = b"".join([first, *rest]).splitlines()
    assert len(lines) == 20_001 and lines[-1] == b"20000;" + b"x" * 1000
    assert len(rest) > kept
    assert all(a < b for a, b in zip(seen_turns, seen_turns[1:], strict=False))


async def test_a_reader_that_stops_early_gives_the_connection_back(migrated):
    query = "SELECT g, repeat('x', 1000) FROM generate_series(1, $1) g"
    stream = inbox_export.stream_copy(query, 5000)
    await anext(stream)
    await stream.aclose()

    async def copies_running() -> int:
        [row] = await Application.raw(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE query LIKE 'COPY (SELECT g, repeat%' AND state = 'active'"
        )
        return row["n"]

    # The server acts on the cancel request at its own pace (a busy suite: some ms): the copy
    # must end, not run on for its 5 MB.
    for _ in range(200):  # up to 10 s
        if not await copies_running():
            break
        await asyncio.sleep(0.05)
    assert await copies_running() == 0
    # Every connection of the pool is usable again.
    pool = Application._meta.db.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        assert all([await c.fetchval("SELECT 1") == 1 for c in held])
    finally:
        for connection in held:
            await pool.release(connection)


async def test_a_failed_copy_is_an_error_not_a_short_file(migrated):
    stream = inbox_export.stream_copy("SELECT 1 / (2 - g) FROM generate_series(1, $1) g", 3)
    with pytest.raises(Exception, match="division by zero"):
        [chunk async for chunk in stream]
