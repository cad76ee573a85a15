"""Who governs whom (issue 9): pure account rules, no database."""

from dataclasses import replace
from uuid import uuid4

import pytest

from app import policies
from app.policies import AccountFacts, GroupFacts, MembershipFacts, Viewer

PARIS = GroupFacts(uuid4(), "france-services", ("75",))
CAF_PARIS = GroupFacts(uuid4(), "caf", ("75",))
CAF_93 = GroupFacts(uuid4(), "caf", ("93",))
SHARED = GroupFacts(uuid4(), "caf", ("75", "93"))


def member(group, *, governs=True, manager=False, sole=False) -> MembershipFacts:
    return MembershipFacts(group=group, is_manager=manager, governs=governs, sole_manager=sole)


def account(*memberships, **kw) -> AccountFacts:
    return AccountFacts(id=uuid4(), memberships=tuple(memberships), **kw)


def viewer(*, member_of=(), manager_of=(), **kw) -> Viewer:
    return Viewer(
        id=uuid4(),
        group_ids=frozenset(g.id for g in (*member_of, *manager_of)),
        managed_group_ids=frozenset(g.id for g in manager_of),
        **kw,
    )


AIDANT = viewer(member_of=[PARIS], is_helper=True)
BOSS = viewer(manager_of=[PARIS])
BOSS_OF_BOTH = viewer(manager_of=[PARIS, CAF_93])
AREA_MANAGER = viewer(area_manager_scopes=frozenset({(None, "75")}))
ADMIN_75 = viewer(is_admin=True, admin_areas=frozenset({"75"}))
ADMIN_75_93 = viewer(is_admin=True, admin_areas=frozenset({"75", "93"}))

COLLEAGUE = account(member(PARIS))
HOSTED = account(member(PARIS, governs=False))
SHARED_WITH_93 = account(member(PARIS), member(CAF_93))
HOSTED_FROM_93 = account(member(CAF_93), member(PARIS, governs=False))
NO_GROUP = account()
STAFF = {
    "area manager": account(member(PARIS), scope_areas=("75",)),
    "national observer": account(member(PARIS), scope_areas=(None,)),
    "admin": account(member(PARIS), is_admin=True),
    "expert": account(member(PARIS), is_expert=True),
}


@pytest.mark.parametrize(
    ("who", "target", "disable", "edit"),
    [
        (AIDANT, COLLEAGUE, True, False),
        (BOSS, COLLEAGUE, True, True),
        (AREA_MANAGER, COLLEAGUE, True, True),
        (ADMIN_75, COLLEAGUE, True, True),
        # Added by e-mail: hosted, governed by nobody from the group side.
        (BOSS, HOSTED, False, False),
        (ADMIN_75, HOSTED, False, False),
        # Belongs elsewhere too: only whoever acts for all its groups.
        (BOSS, SHARED_WITH_93, False, False),
        (BOSS_OF_BOTH, SHARED_WITH_93, True, True),
        (ADMIN_75, SHARED_WITH_93, False, False),
        (ADMIN_75_93, SHARED_WITH_93, True, True),
        (BOSS, HOSTED_FROM_93, False, False),
        (BOSS_OF_BOTH, HOSTED_FROM_93, True, True),
        (ADMIN_75_93, NO_GROUP, False, False),
    ],
)
def test_governance_of_accounts(who, target, disable, edit):
    assert policies.can_disable_account(who, target) is disable
    assert policies.can_edit_account(who, target) is edit


@pytest.mark.parametrize("kind", sorted(STAFF))
@pytest.mark.parametrize("who", [AIDANT, BOSS, AREA_MANAGER])
def test_staff_accounts_are_never_governed_from_a_group(kind, who):
    target = STAFF[kind]
    assert not policies.can_disable_account(who, target)
    assert not policies.can_edit_account(who, target)
    assert policies.member_exit(who, PARIS, target) == "remove"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (STAFF["area manager"], True),
        (STAFF["national observer"], False),
        (STAFF["admin"], False),
        (STAFF["expert"], False),
        (account(scope_areas=("75",)), True),
        (account(scope_areas=("75", "13")), False),
        (account(member(PARIS), member(CAF_PARIS)), True),
        (account(member(SHARED)), False),
        (HOSTED, False),
        (NO_GROUP, False),
    ],
)
def test_admin_of_75_administers_accounts_all_within_75(target, expected):
    assert policies.administers_account(ADMIN_75, target) is expected
    assert policies.can_edit_user(ADMIN_75, target) is expected


def test_nobody_administers_themselves_nor_does_a_non_admin():
    me = account(member(PARIS))
    admin = replace(ADMIN_75, id=me.id)
    assert not policies.administers_account(admin, me)
    assert not policies.administers_account(BOSS, COLLEAGUE)
    assert not policies.administers_account(None, COLLEAGUE)


def test_delete_only_unused_accounts():
    assert policies.can_delete_user(ADMIN_75, replace(COLLEAGUE, has_been_used=False))
    assert not policies.can_delete_user(ADMIN_75, COLLEAGUE)
    assert not policies.can_delete_user(ADMIN_75, replace(HOSTED, has_been_used=False))


@pytest.mark.parametrize(
    ("who", "target", "expected"),
    [
        (AIDANT, COLLEAGUE, "disable"),
        (AIDANT, HOSTED, "remove"),
        (AIDANT, SHARED_WITH_93, "remove"),
        (AIDANT, HOSTED_FROM_93, "remove"),
        # The home group of an account also hosted elsewhere: leaving it would strand it.
        (AIDANT, account(member(PARIS), member(CAF_93, governs=False)), None),
        (ADMIN_75, account(member(SHARED)), None),
        (viewer(member_of=[CAF_93]), COLLEAGUE, None),
        (viewer(observer_scopes=frozenset({(None, None)})), COLLEAGUE, None),
    ],
)
def test_member_exit(who, target, expected):
    group = SHARED if target.membership_in(SHARED.id) else PARIS
    assert policies.member_exit(who, group, target) == expected


def test_nobody_takes_themselves_out():
    me = account(member(PARIS))
    assert policies.member_exit(replace(AIDANT, id=me.id), PARIS, me) is None


@pytest.mark.parametrize(
    ("who", "target", "expected"),
    [
        (BOSS, COLLEAGUE, policies.MEMBER_ROW_FIELDS),
        (BOSS, HOSTED, {"is_manager"}),
        (BOSS, SHARED_WITH_93, {"is_manager"}),
        (BOSS, STAFF["area manager"], {"is_manager"}),
        (BOSS, STAFF["admin"], set()),
        (BOSS, STAFF["expert"], set()),
        (AIDANT, COLLEAGUE, set()),
        (ADMIN_75, COLLEAGUE, policies.MEMBER_ROW_FIELDS),
    ],
)
def test_editable_member_fields(who, target, expected):
    assert policies.editable_member_fields(who, PARIS, target) == expected


def test_a_responsable_never_edits_their_own_row():
    me = account(member(PARIS, manager=True))
    boss = replace(BOSS, id=me.id)
    assert policies.editable_member_fields(boss, PARIS, me) == frozenset()
    assert not policies.can_edit_member_row(boss, PARIS, me)


def test_last_manager_and_reactivation():
    sole = account(member(PARIS, manager=True, sole=True))
    assert policies.is_last_manager(sole, PARIS.id)
    assert not policies.is_last_manager(COLLEAGUE, PARIS.id)
    disabled = replace(COLLEAGUE, is_disabled=True)
    assert policies.can_reactivate_member(AIDANT, PARIS, disabled)
    assert not policies.can_reactivate_member(AIDANT, PARIS, replace(HOSTED, is_disabled=True))


def test_admin_removes_a_group_only_when_another_still_governs():
    two = account(member(PARIS), member(CAF_PARIS))
    assert policies.can_remove_user_from_group(ADMIN_75, two, PARIS)
    assert not policies.can_remove_user_from_group(ADMIN_75, COLLEAGUE, PARIS)
    with_scope = account(member(PARIS), scope_areas=("75",))
    assert policies.can_remove_user_from_group(ADMIN_75, with_scope, {"id": PARIS.id})


@pytest.mark.parametrize(
    ("group_areas", "new_areas", "expected"),
    [
        (("75",), ("75", "92"), False),
        (("75", "93"), ("75", "93"), True),
        (("75", "93"), ("93",), False),
        (("75",), ("75",), True),
    ],
)
def test_group_areas_an_admin_may_set(group_areas, new_areas, expected):
    group = GroupFacts(uuid4(), "caf", group_areas)
    assert policies.can_set_group_areas(ADMIN_75, group, new_areas) is expected


def test_a_route_rule_must_declare_as_many_objects_as_it_takes():
    with pytest.raises(ValueError):
        policies.policy(policies.can_edit_member_row, group=policies.GroupById())
    with pytest.raises(ValueError):
        policies.policy(policies.member_exit)
    assert policies.policy(policies.can_edit_user, account=policies.AdministeredAccountById())
