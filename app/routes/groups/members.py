"""Mes groupes and a group's page: its members, adding one, taking one out or back, and the
inline edit of a member's row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app import policies
from app.domain import groups
from app.domain.users import DomainError
from app.domain.validators import ValidationError, page_number
from app.policies import (
    can_add_member,
    can_edit_member_row,
    can_exit_member,
    can_reactivate_member,
    can_see_group_members,
    can_see_member,
    policy,
)
from app.routes import canned_replies
from app.routes.common import address, current_viewer, error_status, form_dict, refused
from app.routes.groups.blocks import (
    GROUP,
    MEMBER,
    POLICY,
    block_of,
    blocks_of,
    done,
    group_of,
    member_of,
    member_or_404,
    show_block,
)
from app.tables import Group
from app.templating import htmx_notice, redirect, render, wants_fragment

SAVED = "Les modifications ont été enregistrées."
EXIT_MESSAGES = {
    "removed": "La personne a été retirée du groupe (elle reste dans ses autres groupes).",
    "disabled": "Le compte a été désactivé.",
}


@get("/groupes", opt=POLICY)
async def index(
    request: Request,
    desactives: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    number = page_number(page)
    query = " ".join((q or "").split())
    mine, total = await groups.my_groups_page(current_viewer(request), query, number)
    return render(
        request,
        "groups/index.html",
        {
            "blocks": await blocks_of(mine, show_disabled=bool(desactives)),
            "title": "Mes groupes",
            "q": query,
            "page": number,
            "total": total,
            "has_next": number * groups.MY_GROUPS_PAGE_SIZE < total,
            # The search only shows when there is more than one page to search through.
            "searchable": bool(query) or total > groups.MY_GROUPS_PAGE_SIZE,
        },
    )


@get("/groupes/{group_id:uuid}", opt=policy(can_see_group_members, group=GROUP))
async def show(
    request: Request,
    group_id: FromPath[UUID],
    desactives: FromQuery[str | None] = None,
    membres: FromQuery[str | None] = None,
    membre: FromQuery[UUID | None] = None,
) -> Template:
    group = group_of(request)
    # ``membre``: open the page holding this member (where a no-JS edit lands back).
    block = await block_of(
        group, show_disabled=bool(desactives), page=page_number(membres), around=membre
    )
    block["canned"] = await canned_replies.section_context(current_viewer(request), group)
    return show_block(request, block)


async def _add_form(request: Request, group: Group, email: str, status_code: int = 200, **add):
    """The add form again: an error on the address, or the instructeur confirmation."""
    form = {"email": email, "error": None, "confirm_count": None, **add}
    return show_block(request, await block_of(group, add=form), status_code=status_code)


@post("/groupes/{group_id:uuid}/membres", opt=policy(can_add_member, group=GROUP))
async def add_member(request: Request, group_id: FromPath[UUID]) -> Response:
    group, data = group_of(request), await form_dict(request)
    email = data.get("email", "")
    try:
        user, confirm_count = await groups.add_existing_member(
            group,
            email,
            actor_id=current_viewer(request).id,
            confirmed=data.get("confirm_instructor") == "1",
            client_address=address(request),
        )
    except ValidationError as error:
        return await _add_form(request, group, email, error_status(request), error=str(error))
    if confirm_count:
        return await _add_form(request, group, user.email, confirm_count=confirm_count)
    message = f"{user.email} a été ajouté(e) au groupe."
    return await done(request, group, data, message, focus_user=user.id)


async def _change_member(
    request: Request,
    change: Callable[[Request, Group, policies.AccountFacts], Awaitable[str]],
    **changes: Any,
) -> Response:
    """Take a member out or back: the change's message, or its refusal, on the block."""
    group, data = group_of(request), await form_dict(request)
    try:
        message = await change(request, group, member_of(request))
    except DomainError as error:
        return await done(request, group, data, str(error), error=True, **changes)
    return await done(request, group, data, message, **changes)


async def _deactivate(request: Request, group: Group, account: policies.AccountFacts) -> str:
    viewer = current_viewer(request)
    way_out = policies.member_exit(viewer, group, account)
    outcome = await groups.deactivate_member(
        group, account, way_out, actor_id=viewer.id, client_address=address(request)
    )
    return EXIT_MESSAGES[outcome]


async def _reactivate(request: Request, group: Group, account: policies.AccountFacts) -> str:
    await groups.reactivate_member(
        group, account, actor_id=current_viewer(request).id, client_address=address(request)
    )
    return "Le compte a été réactivé."


ROW = "/groupes/{group_id:uuid}/membres/{user_id:uuid}"


@post(f"{ROW}/desactivation", opt=policy(can_exit_member, group=GROUP, member=MEMBER))
async def deactivate(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    return await _change_member(request, _deactivate)


@post(f"{ROW}/reactivation", opt=policy(can_reactivate_member, group=GROUP, member=MEMBER))
async def reactivate(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    return await _change_member(request, _reactivate, show_disabled=True)


# --- inline edit of a member's row -------------------------------------------------------------


def _row(
    request: Request,
    block: dict,
    member: dict,
    *,
    status_code: int = 200,
    template: str = "groups/_member_row.html",
) -> Template:
    """One member row for htmx; the whole group page otherwise."""
    if wants_fragment(request):
        return render(request, template, {"block": block, "m": member}, status_code=status_code)
    return show_block(request, block, status_code=status_code)


async def _row_form(
    request: Request, group: Group, member: dict, form: Any, status_code: int = 200
) -> Template:
    """The row as a form: being edited, or again with its errors or a confirmation."""
    block = await block_of(group, editing={"id": member["id"], "form": form})
    return _row(
        request, block, member, status_code=status_code, template="groups/_member_row_form.html"
    )


@get(ROW, opt=policy(can_see_member, group=GROUP, member=MEMBER))
async def member(request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]) -> Response:
    group = group_of(request)
    found = await member_or_404(group, user_id)
    if not wants_fragment(request):
        return redirect(f"/groupes/{group.id}?membre={user_id}#membre-{group.id}-{user_id}")
    return _row(request, await block_of(group, focus_user=user_id), found)


EDIT_ROW = policy(can_edit_member_row, group=GROUP, member=MEMBER)


@get(f"{ROW}/edition", opt=EDIT_ROW)
async def edit_member(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Template:
    group = group_of(request)
    found = await member_or_404(group, user_id)
    return await _row_form(request, group, found, groups.MemberForm(values=dict(found)))


async def _saved_row(request: Request, group: Group, user_id: UUID) -> Response:
    if not wants_fragment(request):
        return redirect(f"/groupes/{group.id}?membre={user_id}#membre-{group.id}-{user_id}", SAVED)
    saved = await member_or_404(group, user_id)
    # The same confirmation as the redirect's flash, in the live region (app.js).
    return htmx_notice(_row(request, await block_of(group, focus_user=user_id), saved), SAVED)


@post(ROW, opt=EDIT_ROW)
async def save_member(
    request: Request, group_id: FromPath[UUID], user_id: FromPath[UUID]
) -> Response:
    viewer, group, account = current_viewer(request), group_of(request), member_of(request)
    fields = policies.editable_member_fields(viewer, group, account)
    data = await form_dict(request)
    if set(data) & (policies.MEMBER_ROW_FIELDS - fields):
        # A field the form never offered this viewer: a forged post, refused whole.
        raise await refused(request, group_id=group.id, user_id=account.id)
    found = await member_or_404(group, user_id)
    form = await groups.update_member(
        group, account, data, fields=fields, actor_id=viewer.id, client_address=address(request)
    )
    if form.errors or form.confirm_count:
        status = error_status(request) if form.errors else 200
        return await _row_form(request, group, found, form, status)
    return await _saved_row(request, group, user_id)
