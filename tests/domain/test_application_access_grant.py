"""New instructeurs of a group are given that group's open demandes (spec §4.2)."""

from __future__ import annotations

from factories import make_application, make_group, make_user

from app.domain import applications, users
from app.tables import Participation


async def test_new_instructor_gets_the_open_demandes_of_the_group(db):
    fs = await make_group("france-services")
    caf = await make_group("caf")
    cpam = await make_group("cpam")
    aidant = await make_user(helper_in=[fs])
    await make_user(instructor_in=[caf])
    await make_user(instructor_in=[cpam])
    open_one = await make_application(by=aidant, to=[caf])
    archived = await make_application(by=aidant, to=[caf])
    await applications.archive(archived.id, aidant, "oui")
    other_group = await make_application(by=aidant, to=[cpam])

    newcomer = await make_user(instructor=True)
    await users.add_member(caf.id, newcomer.id)
    assert await applications.open_applications_of_group(caf.id) == [open_one.id]

    given = await applications.grant_open_applications_to_new_instructor(caf.id, newcomer.id)
    assert given == [open_one.id]
    rows = await Participation.select(Participation.application, Participation.group).where(
        Participation.user == newcomer.id
    )
    assert rows == [{"application": open_one.id, "group": caf.id}]
    assert other_group.id not in {r["application"] for r in rows}

    # Idempotent: running it again gives nothing more.
    assert await applications.grant_open_applications_to_new_instructor(caf.id, newcomer.id) == []
