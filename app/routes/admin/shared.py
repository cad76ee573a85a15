"""What the admin screens share: their rules, the objects the guard loads, paging."""

from __future__ import annotations

from uuid import UUID

from litestar import Request

from app.domain import admin
from app.domain.validators import page_number
from app.policies import (
    AdministeredAccountById,
    AdministeredGroupById,
    can_edit_group_structure,
    can_edit_user,
    can_manage_users,
    policy,
)
from app.routes.common import current_viewer, not_found
from app.tables import Group

MANAGE = policy(can_manage_users)
GROUP = AdministeredGroupById()
ACCOUNT = AdministeredAccountById()
STRUCTURE = policy(can_edit_group_structure, group=GROUP)
EDIT_USER = policy(can_edit_user, account=ACCOUNT)
# Routes that show the user page (with its "delete" button when it never served).
USER_PAGE = policy(can_edit_user, account=AdministeredAccountById(with_usage=True))


async def administered_group(request: Request, group_id: UUID) -> Group:
    """A group chosen in a form (not in the path): loaded through the admin's scope, 404
    outside it like the guard's own."""
    group = await admin.load_group(current_viewer(request), group_id)
    if group is None:
        raise await not_found(request, group_id=group_id)
    return group


def page_of(request: Request) -> int:
    return page_number(request.query_params.get("page"))
