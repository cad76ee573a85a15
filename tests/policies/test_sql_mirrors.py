"""The SQL mirrors of the demande rules say what app/policies.py says, case by case.

The inbox reads `participation.reads_content` / `reads_private`, computed in the database by
`aplus_reads_content` / `aplus_reads_private` (migration aplus_2026_12_01t23_21_00_000000).
Changing a predicate without its mirror must fail here, before any list drifts from the
thread.
"""

from __future__ import annotations

import itertools
import uuid

from factories import make_application, make_group, make_user

from app import policies
from app.domain import applications
from app.policies import ApplicationFacts, Viewer
from app.tables import Application, Participation, User

STATUSES = ("new", "in_progress", "processed", "archived")


async def test_sql_functions_equal_the_predicates_for_every_participant(db):
    cases = list(itertools.product([False, True], [False, True], [False, True], STATUSES))
    values = ", ".join("({}::boolean, {}::boolean, {}::boolean, {}::text)" for _ in cases)
    sql = await Application.raw(
        "SELECT c, i, e, s, aplus_reads_content(c, e, s) AS content,"
        " aplus_reads_private(c, i, e, s) AS private"
        f" FROM (VALUES {values}) v (c, i, e, s)",
        *[value for case in cases for value in case],
    )
    assert len(sql) == len(cases) == 32
    for row in sql:
        viewer = Viewer(id=uuid.uuid4(), is_instructor=row["i"], is_expert=row["e"])
        other = uuid.uuid4()
        creator = viewer.id if row["c"] else other
        facts = ApplicationFacts(
            id=uuid.uuid4(),
            creator_id=creator,
            creator_group_id=None,
            area="75",
            status=row["s"],
            participant_ids=frozenset({viewer.id, other}),
        )
        case = (row["c"], row["i"], row["e"], row["s"])
        assert row["content"] is policies.can_read_application(viewer, facts), case
        assert row["private"] is policies.can_read_private_answers(viewer, facts), case


async def test_triggers_keep_the_columns_equal_to_the_predicates(db):
    """New participations, status changes and role changes, read back from the table."""
    caf = await make_group("caf")
    fs = await make_group("france-services")
    multi = await make_user(helper_in=[fs], instructor_in=[await make_group("cpam")])
    instructeur = await make_user(instructor_in=[caf])
    expert = await make_user(expert=True)
    app = await make_application(by=multi, to=[caf])
    await applications.add_users(app.id, [expert.id], invited_by=instructeur.id)

    async def columns() -> dict:
        rows = await Participation.select(
            Participation.user, Participation.reads_content, Participation.reads_private
        ).where(Participation.application == app.id)
        return {r["user"]: (r["reads_content"], r["reads_private"]) for r in rows}

    assert await columns() == {
        multi.id: (True, False),
        instructeur.id: (True, True),
        expert.id: (True, True),
    }
    await applications.archive(app.id, multi, "oui")
    assert (await columns())[expert.id] == (False, False)
    await applications.reopen(app.id, multi)
    assert (await columns())[expert.id] == (True, True)
    await User.update({User.is_instructor: False}).where(User.id == instructeur.id)
    assert (await columns())[instructeur.id] == (True, False)
