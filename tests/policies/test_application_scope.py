"""The query scope of demandes: participations, anonymised admins, a 404 and an audit event."""

from __future__ import annotations

import uuid

import pytest
from factories import make_application, make_group, make_user
from litestar.exceptions import NotFoundException

from app import policies
from app.domain import applications, sessions
from app.tables import AuditEvent, User


async def viewer_of(user):
    return await sessions.build_viewer((await User.select().where(User.id == user.id))[0])


async def test_scope_follows_participations(db):
    fs = await make_group("france-services")
    caf = await make_group("caf")
    cpam = await make_group("cpam")
    aidant = await make_user(helper_in=[fs])
    colleague = await make_user(helper_in=[fs])
    instructor = await make_user(instructor_in=[caf])
    outsider = await make_user(instructor_in=[cpam])
    admin = await make_user(admin=True, admin_areas=["75"])
    application = await make_application(by=aidant, to=[caf], from_group=fs)

    async def visible(user):
        rows = await policies.visible_applications_query(await viewer_of(user))
        return {r.id for r in rows}

    assert await visible(aidant) == {application.id}
    assert await visible(instructor) == {application.id}
    assert await visible(colleague) == set()
    assert await visible(outsider) == set()
    assert await visible(admin) == {application.id}

    facts = await policies.load_application_for(await viewer_of(instructor), application.id)
    assert facts.creator_id == aidant.id and instructor.id in facts.participant_ids


@pytest.mark.parametrize("guess", ["other", "missing"])
async def test_outside_the_scope_is_a_404_written_to_the_audit_log(db, guess):
    fs = await make_group("france-services")
    caf = await make_group("caf")
    aidant = await make_user(helper_in=[fs])
    colleague = await make_user(helper_in=[fs])
    application = await make_application(by=aidant, to=[caf], from_group=fs)
    target = application.id if guess == "other" else uuid.uuid4()

    with pytest.raises(NotFoundException):
        await policies.load_application_for(await viewer_of(colleague), target)

    events = await AuditEvent.select().where(AuditEvent.actor_id == colleague.id)
    assert [(e["code"], e["target_application_id"]) for e in events] == [
        ("not_found_in_scope", target)
    ]


async def test_expert_loses_the_demande_once_archived(db):
    fs = await make_group("france-services")
    caf = await make_group("caf")
    aidant = await make_user(helper_in=[fs])
    expert = await make_user(expert=True)
    application = await make_application(by=aidant, to=[caf], from_group=fs)
    await applications.add_users(application.id, [expert.id], invited_by=None)
    viewer = await viewer_of(expert)
    assert await policies.load_application_for(viewer, application.id)

    await applications.archive(application.id, aidant, "oui")
    assert await policies.visible_applications_query(viewer) == []
    with pytest.raises(NotFoundException):
        await policies.load_application_for(viewer, application.id)
