"""Who sees which statistics: the scope terms of each role, the deployment view, the landing."""

from uuid import uuid4

from app.policies import (
    NATIONAL_STATISTICS,
    StatisticsTerm,
    Viewer,
    can_refresh_statistics,
    can_see_deployment,
    can_see_statistics,
    deployment_scope,
    landing_path,
    statistics_scope,
)


def test_members_see_their_groups():
    g1, g2 = uuid4(), uuid4()
    viewer = Viewer(id=uuid4(), is_helper=True, group_ids=frozenset({g1, g2}))
    assert set(statistics_scope(viewer)) == {StatisticsTerm(group=g1), StatisticsTerm(group=g2)}
    assert can_see_statistics(viewer) and not can_see_deployment(viewer)
    assert landing_path(viewer) == "/demandes"


def test_area_managers_and_observers_see_their_scopes_and_national_absorbs_the_rest():
    manager = Viewer(id=uuid4(), area_manager_scopes=frozenset({("caf", "75")}))
    assert statistics_scope(manager) == (StatisticsTerm(frozenset({"75"}), "caf"),)
    assert landing_path(manager) == "/statistiques"
    assert not can_see_deployment(manager)
    observer = Viewer(
        id=uuid4(),
        group_ids=frozenset({uuid4()}),
        observer_scopes=frozenset({(None, None), ("caf", "75")}),
    )
    assert statistics_scope(observer) == NATIONAL_STATISTICS
    assert can_see_deployment(observer) and landing_path(observer) == "/statistiques"
    by_org = Viewer(id=uuid4(), observer_scopes=frozenset({("cpam", None)}))
    assert statistics_scope(by_org) == (StatisticsTerm(None, "cpam"),)


def test_admins_see_their_departements_and_land_on_the_admin_home():
    admin = Viewer(id=uuid4(), is_admin=True, admin_areas=frozenset({"75", "93"}))
    assert statistics_scope(admin) == (StatisticsTerm(frozenset({"75", "93"})),)
    assert deployment_scope(admin) == statistics_scope(admin)
    assert can_refresh_statistics(admin) and can_see_deployment(admin)
    assert landing_path(admin) == "/admin"


def test_nobody_without_scope_and_no_disabled_account():
    assert not can_see_statistics(Viewer(id=uuid4(), is_instructor=True))
    disabled = Viewer(id=uuid4(), is_disabled=True, observer_scopes=frozenset({(None, None)}))
    assert not can_see_statistics(disabled) and not can_see_deployment(disabled)
    assert not can_see_statistics(None)
    member = Viewer(id=uuid4(), group_ids=frozenset({uuid4()}))
    assert not can_refresh_statistics(member)
