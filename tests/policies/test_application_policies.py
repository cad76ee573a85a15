"""Spec §3 on demandes, answers and files: every role × every action, as a table."""

from __future__ import annotations

import uuid

import pytest

from app import policies
from app.policies import ApplicationFacts, Viewer

CREATOR_GROUP = uuid.uuid4()
CAF_GROUP = uuid.uuid4()
OTHER_GROUP = uuid.uuid4()

CREATOR = uuid.uuid4()
INVITED_COLLEAGUE = uuid.uuid4()
INVITED_INSTRUCTOR = uuid.uuid4()
INVITED_MANAGER = uuid.uuid4()
INVITED_MANAGER_INSTRUCTOR = uuid.uuid4()
INVITED_EXPERT = uuid.uuid4()
INVITED_DISABLED = uuid.uuid4()
INVITED_OUTSIDER_HELPER = uuid.uuid4()

PARTICIPANTS = frozenset(
    {
        CREATOR,
        INVITED_COLLEAGUE,
        INVITED_INSTRUCTOR,
        INVITED_MANAGER,
        INVITED_MANAGER_INSTRUCTOR,
        INVITED_EXPERT,
        INVITED_DISABLED,
        INVITED_OUTSIDER_HELPER,
    }
)


def facts(status: str = "in_progress") -> ApplicationFacts:
    return ApplicationFacts(
        id=uuid.uuid4(),
        creator_id=CREATOR,
        creator_group_id=CREATOR_GROUP,
        area="75",
        status=status,
        participant_ids=PARTICIPANTS,
    )


VIEWERS: dict[str, Viewer] = {
    "creator (aidant)": Viewer(id=CREATOR, is_helper=True, group_ids=frozenset({CREATOR_GROUP})),
    "colleague of the creator, invited": Viewer(
        id=INVITED_COLLEAGUE, is_helper=True, group_ids=frozenset({CREATOR_GROUP})
    ),
    "colleague of the creator, not invited": Viewer(
        id=uuid.uuid4(), is_helper=True, group_ids=frozenset({CREATOR_GROUP})
    ),
    "responsable of the creator's group, not invited": Viewer(
        id=uuid.uuid4(),
        is_helper=True,
        group_ids=frozenset({CREATOR_GROUP}),
        managed_group_ids=frozenset({CREATOR_GROUP}),
    ),
    "aidant of another group, invited": Viewer(
        id=INVITED_OUTSIDER_HELPER, is_helper=True, group_ids=frozenset({OTHER_GROUP})
    ),
    "instructeur, invited": Viewer(
        id=INVITED_INSTRUCTOR, is_instructor=True, group_ids=frozenset({CAF_GROUP})
    ),
    "instructeur of an addressed group, not invited": Viewer(
        id=uuid.uuid4(), is_instructor=True, group_ids=frozenset({CAF_GROUP})
    ),
    "responsable (not instructeur), invited": Viewer(
        id=INVITED_MANAGER,
        group_ids=frozenset({CAF_GROUP}),
        managed_group_ids=frozenset({CAF_GROUP}),
    ),
    "responsable and instructeur, invited": Viewer(
        id=INVITED_MANAGER_INSTRUCTOR,
        is_instructor=True,
        group_ids=frozenset({CAF_GROUP}),
        managed_group_ids=frozenset({CAF_GROUP}),
    ),
    "responsable, not invited": Viewer(
        id=uuid.uuid4(),
        is_instructor=True,
        group_ids=frozenset({CAF_GROUP}),
        managed_group_ids=frozenset({CAF_GROUP}),
    ),
    "area manager": Viewer(id=uuid.uuid4(), area_manager_scopes=frozenset({("caf", "75")})),
    "observer": Viewer(id=uuid.uuid4(), observer_scopes=frozenset({(None, None)})),
    "expert, invited": Viewer(id=INVITED_EXPERT, is_expert=True),
    "expert, not invited": Viewer(id=uuid.uuid4(), is_expert=True),
    "admin of the département": Viewer(
        id=uuid.uuid4(), is_admin=True, admin_areas=frozenset({"75"})
    ),
    "admin of another département": Viewer(
        id=uuid.uuid4(), is_admin=True, admin_areas=frozenset({"13"})
    ),
    "invited instructeur, disabled": Viewer(
        id=INVITED_DISABLED, is_instructor=True, is_disabled=True
    ),
    "invited instructeur, CGU not accepted": Viewer(
        id=INVITED_INSTRUCTOR, is_instructor=True, has_accepted_cgu=False
    ),
}

ACTIONS = {
    "read": lambda v, a: policies.can_read_application(v, a),
    "read anonymised": lambda v, a: policies.can_read_application_anonymised(v, a),
    "read public answer": lambda v, a: policies.can_read_answer(v, a, "public"),
    "read private answer": lambda v, a: policies.can_read_answer(v, a, "instructors"),
    "download file": lambda v, a: policies.can_download_file(v, a, "public"),
    "download file of a private answer": lambda v, a: policies.can_download_file(
        v, a, "instructors"
    ),
    "answer": lambda v, a: policies.can_answer(v, a),
    "instructor options": lambda v, a: policies.can_use_instructor_options(v, a),
    "private answer": lambda v, a: policies.can_post_private_answer(v, a),
    "add usager fields": lambda v, a: policies.can_add_usager_fields(v, a),
    "invite": lambda v, a: policies.can_invite(v, a),
    "archive": lambda v, a: policies.can_archive(v, a),
    "reopen": lambda v, a: policies.can_reopen(v, a),
}

READ_ALL_PUBLIC = {"read", "read public answer", "download file", "answer", "invite"}
INSTRUCTOR = READ_ALL_PUBLIC | {
    "read private answer",
    "download file of a private answer",
    "instructor options",
    "private answer",
}

# (viewer, status of the demande) -> the actions allowed; every other action is refused.
TABLE: list[tuple[str, str, set[str]]] = [
    ("creator (aidant)", "in_progress", READ_ALL_PUBLIC | {"add usager fields", "archive"}),
    # Archived: the creator still reads, may write (which reopens) and reopen, not invite.
    (
        "creator (aidant)",
        "archived",
        {"read", "read public answer", "download file", "answer", "add usager fields", "reopen"},
    ),
    ("colleague of the creator, invited", "in_progress", READ_ALL_PUBLIC | {"archive"}),
    (
        "colleague of the creator, invited",
        "archived",
        {"read", "read public answer", "download file", "reopen"},
    ),
    ("colleague of the creator, not invited", "in_progress", set()),
    ("responsable of the creator's group, not invited", "in_progress", set()),
    ("aidant of another group, invited", "in_progress", READ_ALL_PUBLIC),
    ("instructeur, invited", "in_progress", INSTRUCTOR),
    (
        "instructeur, invited",
        "archived",
        {
            "read",
            "read public answer",
            "read private answer",
            "download file",
            "download file of a private answer",
        },
    ),
    ("instructeur of an addressed group, not invited", "in_progress", set()),
    ("responsable (not instructeur), invited", "in_progress", READ_ALL_PUBLIC),
    ("responsable and instructeur, invited", "in_progress", INSTRUCTOR),
    ("responsable, not invited", "in_progress", set()),
    ("area manager", "in_progress", set()),
    ("observer", "in_progress", set()),
    # Experts read and write while open, privately too, but never quick replies or files.
    (
        "expert, invited",
        "in_progress",
        {"read", "read public answer", "read private answer", "answer", "private answer", "invite"},
    ),
    ("expert, invited", "archived", set()),
    ("expert, not invited", "in_progress", set()),
    ("admin of the département", "in_progress", {"read anonymised", "archive"}),
    ("admin of the département", "archived", {"read anonymised", "reopen"}),
    ("admin of another département", "in_progress", set()),
    ("invited instructeur, disabled", "in_progress", set()),
    ("invited instructeur, CGU not accepted", "in_progress", set()),
]

CASES = [
    pytest.param(viewer, status, action, action in allowed, id=f"{viewer}|{status}|{action}")
    for viewer, status, allowed in TABLE
    for action in ACTIONS
]


@pytest.mark.parametrize(("viewer", "status", "action", "expected"), CASES)
def test_role_action_matrix(viewer, status, action, expected):
    assert ACTIONS[action](VIEWERS[viewer], facts(status)) is expected


def test_every_viewer_is_in_the_table():
    assert {row[0] for row in TABLE} == set(VIEWERS)


def test_nobody_reads_both_content_and_anonymised():
    for viewer in VIEWERS.values():
        for status in ("new", "archived"):
            application = facts(status)
            assert not (
                policies.can_read_application(viewer, application)
                and policies.can_read_application_anonymised(viewer, application)
            )


def test_admin_personally_invited_reads_content_but_never_downloads():
    admin = Viewer(id=INVITED_COLLEAGUE, is_admin=True, admin_areas=frozenset({"75"}))
    application = facts()
    assert policies.can_read_application(admin, application)
    assert not policies.can_read_application_anonymised(admin, application)
    assert not policies.can_download_file(admin, application)


def test_instructeur_creator_is_an_aidant_on_their_own_demande():
    """An instructeur who also is aidant and created the demande does not see private answers."""
    viewer = Viewer(id=CREATOR, is_helper=True, is_instructor=True)
    application = facts()
    assert policies.can_read_application(viewer, application)
    assert not policies.can_read_answer(viewer, application, "instructors")
    assert not policies.can_use_instructor_options(viewer, application)


def test_anonymous_visitor_gets_nothing():
    for action in ACTIONS.values():
        assert action(None, facts()) is False
