"""Role × action table for groups and accounts (pure rules, no database)."""

from dataclasses import dataclass, replace
from uuid import uuid4

import pytest

from app import policies
from app.policies import Viewer


@dataclass(frozen=True)
class G:
    id: object
    organisation: str | None
    areas: tuple[str, ...]


CAF_PARIS = G(uuid4(), "caf", ("75",))
OTHER = G(uuid4(), "cpam", ("13",))

VIEWERS = {
    "member": Viewer(id=uuid4(), is_helper=True, group_ids=frozenset({CAF_PARIS.id})),
    "responsable": Viewer(
        id=uuid4(),
        group_ids=frozenset({CAF_PARIS.id}),
        managed_group_ids=frozenset({CAF_PARIS.id}),
    ),
    "member_of_other_group": Viewer(id=uuid4(), group_ids=frozenset({OTHER.id})),
    "responsable_of_other_group": Viewer(
        id=uuid4(), group_ids=frozenset({OTHER.id}), managed_group_ids=frozenset({OTHER.id})
    ),
    "area_manager": Viewer(id=uuid4(), area_manager_scopes=frozenset({("caf", "75")})),
    "area_manager_all_orgs": Viewer(id=uuid4(), area_manager_scopes=frozenset({(None, "75")})),
    "area_manager_outside_area": Viewer(id=uuid4(), area_manager_scopes=frozenset({("caf", "13")})),
    "area_manager_outside_org": Viewer(id=uuid4(), area_manager_scopes=frozenset({("cpam", "75")})),
    "observer": Viewer(id=uuid4(), observer_scopes=frozenset({(None, None)})),
    "observer_outside": Viewer(id=uuid4(), observer_scopes=frozenset({("caf", "13")})),
    "admin": Viewer(id=uuid4(), is_admin=True, admin_areas=frozenset({"75", "92"})),
    "admin_elsewhere": Viewer(id=uuid4(), is_admin=True, admin_areas=frozenset({"13"})),
    "expert": Viewer(id=uuid4(), is_expert=True),
    "disabled_responsable": Viewer(
        id=uuid4(),
        is_disabled=True,
        group_ids=frozenset({CAF_PARIS.id}),
        managed_group_ids=frozenset({CAF_PARIS.id}),
    ),
    "member_without_cgu": Viewer(
        id=uuid4(), has_accepted_cgu=False, group_ids=frozenset({CAF_PARIS.id})
    ),
    "anonymous": None,
}

ACTIONS = [
    "can_see_group_members",
    "can_add_member",
    "can_deactivate_member",
    "can_edit_member",
    "can_create_accounts",
    "can_edit_group_texts",
    "can_export_group_users",
    "can_edit_group_structure",
]

# Who may do each action on CAF_PARIS; everyone else may not.
ALLOWED = {
    "can_see_group_members": {
        "member",
        "responsable",
        "area_manager",
        "area_manager_all_orgs",
        "observer",
        "admin",
    },
    "can_add_member": {"member", "responsable", "area_manager", "area_manager_all_orgs", "admin"},
    "can_deactivate_member": {
        "member",
        "responsable",
        "area_manager",
        "area_manager_all_orgs",
        "admin",
    },
    "can_edit_member": {"responsable", "area_manager", "area_manager_all_orgs", "admin"},
    "can_create_accounts": {"responsable", "area_manager", "area_manager_all_orgs", "admin"},
    "can_edit_group_texts": {"responsable", "area_manager", "area_manager_all_orgs", "admin"},
    "can_export_group_users": {
        "member",
        "responsable",
        "area_manager",
        "area_manager_all_orgs",
        "observer",
        "admin",
    },
    "can_edit_group_structure": {"admin"},
}

CASES = [(action, role, role in ALLOWED[action]) for action in ACTIONS for role in VIEWERS]


@pytest.mark.parametrize(("action", "role", "expected"), CASES)
def test_group_rules(action, role, expected):
    rule = getattr(policies, action)
    assert rule(VIEWERS[role], CAF_PARIS) is expected


def test_group_spanning_several_areas_is_administered_by_an_admin_of_one_of_them():
    group = replace(CAF_PARIS, areas=("13", "75"))
    assert policies.can_edit_group_structure(VIEWERS["admin_elsewhere"], group)


ROUTE_CASES = {
    "can_list_my_groups": {
        "member",
        "responsable",
        "member_of_other_group",
        "responsable_of_other_group",
        "area_manager",
        "area_manager_all_orgs",
        "area_manager_outside_area",
        "area_manager_outside_org",
        "observer",
        "observer_outside",
        "admin",
        "admin_elsewhere",
        "expert",
    },
    "can_manage_users": {"admin", "admin_elsewhere"},
    "can_read_events": {"admin", "admin_elsewhere"},
}


@pytest.mark.parametrize(
    ("rule_name", "role", "expected"),
    [(name, role, role in allowed) for name, allowed in ROUTE_CASES.items() for role in VIEWERS],
)
def test_group_route_rules(rule_name, role, expected):
    assert policies.ROUTE_RULES[rule_name](VIEWERS[role]) is expected


@pytest.mark.parametrize(
    ("role", "areas", "expected"),
    [
        ("admin", {"75"}, True),
        ("admin", {"75", "92"}, True),
        ("admin", {"75", "13"}, False),
        ("admin", set(), False),
        ("admin_elsewhere", {"75"}, False),
        ("responsable", {"75"}, False),
    ],
)
def test_can_create_group_in(role, areas, expected):
    assert policies.can_create_group_in(VIEWERS[role], areas) is expected
