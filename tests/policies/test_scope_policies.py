"""Who may grant or remove a scope of area manager or observer (pure rule)."""

from uuid import uuid4

import pytest

from app.policies import Viewer, can_grant_scope

ADMIN = Viewer(id=uuid4(), is_admin=True, admin_areas=frozenset({"75", "92"}))


@pytest.mark.parametrize(
    ("viewer", "area", "allowed"),
    [
        (ADMIN, "75", True),
        (ADMIN, "92", True),
        (ADMIN, "13", False),
        # "All départements" is never granted through the admin screens (CLI only).
        (ADMIN, None, False),
        (Viewer(id=uuid4(), is_admin=True), "75", False),
        (Viewer(id=uuid4(), area_manager_scopes=frozenset({("caf", "75")})), "75", False),
        (Viewer(id=uuid4(), observer_scopes=frozenset({(None, None)})), "75", False),
        (Viewer(id=uuid4(), is_expert=True, admin_areas=frozenset({"75"})), "75", False),
    ],
)
def test_can_grant_scope(viewer, area, allowed):
    assert can_grant_scope(viewer, area) is allowed
